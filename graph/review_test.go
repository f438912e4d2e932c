package graph_test

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/auditevent"
	"github.com/healthmed/healthmed/internal/apptest"
)

const (
	reviewsOp = `query($id: ID!, $first: Int, $after: Cursor) { node(id: $id) { ... on Doctor {
		rating ratingCount
		reviews(first: $first, after: $after) {
			pageInfo { hasNextPage endCursor }
			edges { cursor node { id stars comment createdAt author reply repliedAt hidden } }
		}
	} } }`
	replyOp = `mutation($id: ID!, $t: String!) { replyToReview(id: $id, text: $t) { id reply repliedAt } }`
	hideOp  = `mutation($id: ID!, $r: String!) { hideReview(id: $id, reason: $r) { id hidden } }`
)

type reviewNode struct {
	ID, Comment, CreatedAt, Author string
	Stars                          int
	Reply, RepliedAt               *string
	Hidden                         bool
}

type reviewsPage struct {
	Node struct {
		Rating      *float64
		RatingCount int
		Reviews     struct {
			PageInfo struct {
				HasNextPage bool
				EndCursor   *string
			}
			Edges []struct {
				Cursor string
				Node   reviewNode
			}
		}
	}
}

// reviewFixture is a doctor with completed appointments, each one
// patient's, ready to be rated.
type reviewFixture struct {
	env      *apptest.Env
	doctor   string // token
	doctorID int
	next     int
}

func newReviewFixture(t *testing.T, env *apptest.Env) *reviewFixture {
	doc, _ := env.Doctor("Dr. Reviewed", "Cardiology", -23.55, -46.63)
	id, _ := strconv.Atoi(viewerID(t, env, doc))
	return &reviewFixture{env: env, doctor: doc, doctorID: id}
}

// completed writes, as an import would, a consultation of a new patient
// named name that took place, and returns the patient's token and the
// appointment's id.
func (f *reviewFixture) completed(t *testing.T, name string) (token, appt string) {
	t.Helper()
	f.next++
	token = f.env.PatientToken(t, name)
	pid, _ := strconv.Atoi(viewerID(t, f.env, token))
	start := time.Now().UTC().Truncate(time.Hour).AddDate(0, 0, -3).Add(time.Duration(f.next) * time.Hour)
	sl, err := f.env.DB.Client.Slot.Create().SetDoctorID(f.doctorID).SetStartsAt(start).
		SetEndsAt(start.Add(30 * time.Minute)).Save(sysCtx())
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.env.DB.Client.Appointment.Create().SetSlotID(sl.ID).SetDoctorID(f.doctorID).SetPatientID(pid).
		SetStartsAt(sl.StartsAt).SetEndsAt(sl.EndsAt).SetPriceCents(25000).
		SetStatus(appointment.StatusCOMPLETED).Save(sysCtx())
	if err != nil {
		t.Fatal(err)
	}
	return token, strconv.Itoa(a.ID)
}

// rated is completed and then rated through the API.
func (f *reviewFixture) rated(t *testing.T, name string, stars int, comment string) (token string) {
	t.Helper()
	token, appt := f.completed(t, name)
	if r := f.env.Do(token, rateOp, map[string]any{"id": appt, "s": stars, "c": comment}); r.Code() != "" {
		t.Fatalf("rating: %+v", r.Errors)
	}
	return token
}

// imported writes a rating given at, as an import would.
func (f *reviewFixture) imported(t *testing.T, name string, stars int, at time.Time) *ent.Feedback {
	t.Helper()
	token, appt := f.completed(t, name)
	pid, _ := strconv.Atoi(viewerID(t, f.env, token))
	aid, _ := strconv.Atoi(appt)
	fb, err := f.env.DB.Client.Feedback.Create().SetAppointmentID(aid).SetDoctorID(f.doctorID).SetPatientID(pid).
		SetStars(stars).SetComment(name + "'s comment").SetCreatedAt(at).Save(sysCtx())
	if err != nil {
		t.Fatal(err)
	}
	return fb
}

func (f *reviewFixture) page(t *testing.T, token string, first int, after *string) reviewsPage {
	t.Helper()
	vars := map[string]any{"id": strconv.Itoa(f.doctorID), "first": first}
	if after != nil {
		vars["after"] = *after
	}
	var p reviewsPage
	f.env.Do(token, reviewsOp, vars).Decode(t, &p)
	return p
}

// all reads every review page by page.
func (f *reviewFixture) all(t *testing.T, token string, first int) []reviewNode {
	t.Helper()
	var out []reviewNode
	var after *string
	for i := 0; ; i++ {
		p := f.page(t, token, first, after)
		for _, e := range p.Node.Reviews.Edges {
			out = append(out, e.Node)
		}
		if !p.Node.Reviews.PageInfo.HasNextPage {
			return out
		}
		after = p.Node.Reviews.PageInfo.EndCursor
		if i > 100 {
			t.Fatal("pages never end")
		}
	}
}

func TestReviewsPageNewestFirstWithoutGapsOrRepeats(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled())
	f := newReviewFixture(t, env)
	if p := f.page(t, "", 5, nil); p.Node.Rating != nil || len(p.Node.Reviews.Edges) != 0 || p.Node.Reviews.PageInfo.HasNextPage {
		t.Fatalf("a doctor nobody rated: %+v", p.Node)
	}
	base := time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)
	// Nine ratings; five of them given in the same instant.
	var ids []int
	for i := 0; i < 9; i++ {
		at := base.Add(time.Duration(i) * time.Minute)
		if i >= 2 && i <= 6 {
			at = base.Add(10 * time.Minute)
		}
		ids = append(ids, f.imported(t, fmt.Sprintf("Patient%d Surname", i), 1+i%5, at).ID)
	}
	// Expected: newest first (the five at +10 minutes), equal instants by
	// id descending.
	want := []int{ids[6], ids[5], ids[4], ids[3], ids[2], ids[8], ids[7], ids[1], ids[0]}
	for _, size := range []int{1, 2, 4, 9, 20} {
		got := f.all(t, "", size)
		if len(got) != len(want) {
			t.Fatalf("pages of %d: %d reviews, want %d", size, len(got), len(want))
		}
		for i, r := range got {
			if r.ID != strconv.Itoa(want[i]) {
				t.Fatalf("pages of %d: review %d is %s, want %d", size, i, r.ID, want[i])
			}
		}
	}
	// A rating given while a client pages is not slipped into a later
	// page, and nothing repeats.
	p := f.page(t, "", 3, nil)
	f.imported(t, "Latecomer Person", 5, time.Now())
	seen := map[string]bool{}
	for _, e := range p.Node.Reviews.Edges {
		seen[e.Node.ID] = true
	}
	after := p.Node.Reviews.PageInfo.EndCursor
	for after != nil {
		p = f.page(t, "", 3, after)
		for _, e := range p.Node.Reviews.Edges {
			if seen[e.Node.ID] || e.Node.Author == "Latecomer" {
				t.Fatalf("review %s (%s) on a later page", e.Node.ID, e.Node.Author)
			}
			seen[e.Node.ID] = true
		}
		after = nil
		if p.Node.Reviews.PageInfo.HasNextPage {
			after = p.Node.Reviews.PageInfo.EndCursor
		}
	}
	if len(seen) != 9 {
		t.Fatalf("%d reviews seen across the pages, want 9", len(seen))
	}
	// Another list's cursor, a malformed one, a page too large.
	other := f.page(t, "", 1, nil).Node.Reviews.Edges[0].Cursor
	for name, vars := range map[string]map[string]any{
		"a distance cursor": {"after": searchCursor(t, env)},
		"garbage":           {"after": "!!"},
		"a page too large":  {"first": 51},
		"a negative page":   {"first": -1},
	} {
		vars["id"] = strconv.Itoa(f.doctorID)
		if r := env.Do("", reviewsOp, vars); r.Code() != "BAD_USER_INPUT" {
			t.Fatalf("%s: %q", name, r.Code())
		}
	}
	if r := env.Do("", reviewsOp, map[string]any{"id": strconv.Itoa(f.doctorID), "after": other}); r.Code() != "" {
		t.Fatalf("its own cursor: %+v", r.Errors)
	}
}

// searchCursor is a cursor of the distance search.
func searchCursor(t *testing.T, env *apptest.Env) string {
	t.Helper()
	var p searchPage
	env.Do("", searchOp, map[string]any{"near": saoPaulo, "km": 50.0, "first": 1}).Decode(t, &p)
	if p.Doctors.PageInfo.EndCursor == nil {
		t.Fatal("no search cursor")
	}
	return *p.Doctors.PageInfo.EndCursor
}

func TestReviewsShowThePatientsFirstNameOnly(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled())
	f := newReviewFixture(t, env)
	f.rated(t, "Maria Aparecida da Silva Souza", 5, "Atenciosa e pontual.")
	r := env.Do("", reviewsOp, map[string]any{"id": strconv.Itoa(f.doctorID)})
	var p reviewsPage
	r.Decode(t, &p)
	if len(p.Node.Reviews.Edges) != 1 {
		t.Fatalf("reviews: %+v", p.Node.Reviews)
	}
	n := p.Node.Reviews.Edges[0].Node
	if n.Author != "Maria" || n.Stars != 5 || n.Comment != "Atenciosa e pontual." || n.CreatedAt == "" {
		t.Fatalf("review %+v", n)
	}
	for _, leak := range []string{"Aparecida", "Silva", "Souza", "@example.com"} {
		if strings.Contains(string(r.Data), leak) {
			t.Fatalf("the reviews show %q: %s", leak, r.Data)
		}
	}
	// Nor does the schema offer a way from a review to its patient.
	for _, fld := range []string{"patient { name }", "appointment { id }"} {
		q := `query($id: ID!) { node(id: $id) { ... on Doctor { reviews { edges { node { ` + fld + ` } } } } } }`
		if r := env.Do("", q, map[string]any{"id": strconv.Itoa(f.doctorID)}); len(r.Errors) == 0 || len(r.Data) > 4 {
			t.Fatalf("Review.%s answered: %s", fld, r.Data)
		}
	}
}

func TestDoctorRepliesOnceToTheirOwnReviews(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled())
	f := newReviewFixture(t, env)
	patient := f.rated(t, "Ana Lima", 4, "Boa consulta")
	f.rated(t, "Bruno Reis", 2, "Atrasou")
	other, _ := env.Doctor("Dr. Other", "Cardiology", -23.5, -46.6)
	p := f.page(t, "", 10, nil)
	first, second := p.Node.Reviews.Edges[0].Node.ID, p.Node.Reviews.Edges[1].Node.ID
	for _, tc := range []struct {
		name, token, id, text, code, field string
	}{
		{"anonymous", "", first, "Obrigado", "UNAUTHENTICATED", ""},
		{"the patient", patient, first, "Obrigado", "NOT_FOUND", ""},
		{"another doctor", other, first, "Obrigado", "NOT_FOUND", ""},
		{"a blank reply", f.doctor, first, "   ", "BAD_USER_INPUT", "text"},
		{"a reply too long", f.doctor, first, strings.Repeat("a", 2001), "BAD_USER_INPUT", "text"},
		{"a review that does not exist", f.doctor, "999999999", "Obrigado", "NOT_FOUND", ""},
	} {
		if r := env.Do(tc.token, replyOp, map[string]any{"id": tc.id, "t": tc.text}); r.Code() != tc.code || r.Ext("field") != tc.field {
			t.Fatalf("%s: %q %q", tc.name, r.Code(), r.Ext("field"))
		}
	}
	// Two replies sent at once: exactly one is kept.
	var wg sync.WaitGroup
	codes := make([]string, 2)
	for i := range codes {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := env.Do(f.doctor, replyOp, map[string]any{"id": first, "t": fmt.Sprintf("Obrigado %d", i)})
			codes[i] = r.Code() + "/" + r.Ext("reason")
		}(i)
	}
	wg.Wait()
	if !(codes[0] == "/" && codes[1] == "CONFLICT/ALREADY_REPLIED") && !(codes[1] == "/" && codes[0] == "CONFLICT/ALREADY_REPLIED") {
		t.Fatalf("two replies at once: %v", codes)
	}
	if r := env.Do(f.doctor, replyOp, map[string]any{"id": first, "t": "Mais uma vez"}); r.Code() != "CONFLICT" || r.Ext("reason") != "ALREADY_REPLIED" {
		t.Fatalf("a second reply: %q %q", r.Code(), r.Ext("reason"))
	}
	p = f.page(t, "", 10, nil)
	n := p.Node.Reviews.Edges[0].Node
	if n.ID != first || n.Reply == nil || !strings.HasPrefix(*n.Reply, "Obrigado ") || n.RepliedAt == nil {
		t.Fatalf("the replied review: %+v", n)
	}
	if p.Node.Reviews.Edges[1].Node.ID != second || p.Node.Reviews.Edges[1].Node.Reply != nil {
		t.Fatalf("the other review: %+v", p.Node.Reviews.Edges[1].Node)
	}
}

func TestAdminHidesAReviewAuditedAndItLeavesTheAverage(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled())
	admin, adminID := adminToken(t, env)
	f := newReviewFixture(t, env)
	f.rated(t, "Carla Dias", 5, "Excelente")
	f.rated(t, "Davi Melo", 4, "Bom")
	troll := f.rated(t, "Edu Troll", 1, "spam spam spam")
	p := f.page(t, "", 10, nil)
	if p.Node.Rating == nil || math.Abs(*p.Node.Rating-10.0/3) > 1e-9 || p.Node.RatingCount != 3 {
		t.Fatalf("before hiding: rating %v over %d", p.Node.Rating, p.Node.RatingCount)
	}
	spam := p.Node.Reviews.Edges[0].Node
	if spam.Author != "Edu" {
		t.Fatalf("newest review %+v", spam)
	}
	for _, tc := range []struct{ name, token, code string }{
		{"anonymous", "", "UNAUTHENTICATED"},
		{"the doctor", f.doctor, "FORBIDDEN"},
		{"the patient", troll, "FORBIDDEN"},
	} {
		if r := env.Do(tc.token, hideOp, map[string]any{"id": spam.ID, "r": "spam"}); r.Code() != tc.code {
			t.Fatalf("%s hiding: %q", tc.name, r.Code())
		}
	}
	if r := env.Do(admin, hideOp, map[string]any{"id": spam.ID, "r": " "}); r.Code() != "BAD_USER_INPUT" || r.Ext("field") != "reason" {
		t.Fatalf("no reason: %q %q", r.Code(), r.Ext("field"))
	}
	var hidden struct{ HideReview struct{ Hidden bool } }
	env.Do(admin, hideOp, map[string]any{"id": spam.ID, "r": "spam"}).Decode(t, &hidden)
	if !hidden.HideReview.Hidden {
		t.Fatal("the review is not hidden")
	}
	if r := env.Do(admin, hideOp, map[string]any{"id": spam.ID, "r": "again"}); r.Code() != "CONFLICT" || r.Ext("reason") != "ALREADY_HIDDEN" {
		t.Fatalf("hiding twice: %q %q", r.Code(), r.Ext("reason"))
	}
	// The public no longer sees it, and the average left it.
	p = f.page(t, "", 10, nil)
	if p.Node.Rating == nil || *p.Node.Rating != 4.5 || p.Node.RatingCount != 2 || len(p.Node.Reviews.Edges) != 2 {
		t.Fatalf("after hiding: rating %v over %d, %d reviews", p.Node.Rating, p.Node.RatingCount, len(p.Node.Reviews.Edges))
	}
	for _, e := range p.Node.Reviews.Edges {
		if e.Node.ID == spam.ID {
			t.Fatal("the hidden review is still public")
		}
	}
	// The doctor cannot reply to it; its author and admins still see it.
	if r := env.Do(f.doctor, replyOp, map[string]any{"id": spam.ID, "t": "?"}); r.Code() != "NOT_FOUND" {
		t.Fatalf("replying to a hidden review: %q", r.Code())
	}
	for who, token := range map[string]string{"its author": troll, "an admin": admin} {
		found := false
		for _, e := range f.page(t, token, 10, nil).Node.Reviews.Edges {
			found = found || (e.Node.ID == spam.ID && e.Node.Hidden)
		}
		if !found {
			t.Fatalf("%s does not see the hidden review", who)
		}
	}
	// The minimum-rating search sees the new average.
	var s searchPage
	env.Do("", searchOp, map[string]any{"sp": "Cardiology", "min": 4.5}).Decode(t, &s)
	if len(s.Doctors.Edges) != 1 {
		t.Fatalf("minRating 4.5 after hiding: %+v", s.Doctors.Edges)
	}
	// So does the admins' report.
	var rep struct {
		RatingsReport []struct {
			DoctorName string
			Average    float64
			Ratings    int
		}
	}
	env.Do(admin, ratingsOp, nil).Decode(t, &rep)
	if len(rep.RatingsReport) != 1 || rep.RatingsReport[0].Average != 4.5 || rep.RatingsReport[0].Ratings != 2 {
		t.Fatalf("ratings report after hiding: %+v", rep.RatingsReport)
	}
	// Audited: who, when, which review and why.
	rows, err := env.DB.Client.AuditEvent.Query().Where(auditevent.ActionEQ(auditevent.ActionREVIEW_HIDE)).All(sysCtx())
	if err != nil || len(rows) != 1 || rows[0].ActorRole != "admin" || rows[0].ActorID == nil || *rows[0].ActorID != adminID ||
		!strings.HasPrefix(rows[0].Detail, "review "+spam.ID+" of doctor ") || !strings.HasSuffix(rows[0].Detail, ": spam") {
		t.Fatalf("audit rows %+v, %v", rows, err)
	}
	// With every rating hidden there is no average: null, not 0.
	for _, e := range p.Node.Reviews.Edges {
		env.Do(admin, hideOp, map[string]any{"id": e.Node.ID, "r": "test"}).Decode(t, &hidden)
	}
	p = f.page(t, "", 10, nil)
	if p.Node.Rating != nil || p.Node.RatingCount != 0 || len(p.Node.Reviews.Edges) != 0 {
		t.Fatalf("every rating hidden: rating %v over %d", p.Node.Rating, p.Node.RatingCount)
	}
	// A rating given afterwards counts alone.
	f.rated(t, "Fabi Nova", 3, "")
	if p = f.page(t, "", 10, nil); p.Node.Rating == nil || *p.Node.Rating != 3 || p.Node.RatingCount != 1 {
		t.Fatalf("a new rating after hiding: %v over %d", p.Node.Rating, p.Node.RatingCount)
	}
}

// TestHidingWhileOthersRateKeepsTheAverageExact: ratings folded in while
// an admin hides one are neither lost nor counted twice.
func TestHidingWhileOthersRateKeepsTheAverageExact(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled())
	admin, _ := adminToken(t, env)
	f := newReviewFixture(t, env)
	for i, s := range []int{5, 1, 4, 2} {
		f.rated(t, fmt.Sprintf("Early%d Rater", i), s, "")
	}
	p := f.page(t, "", 10, nil)
	var victims []string
	for _, e := range p.Node.Reviews.Edges {
		if e.Node.Stars <= 2 {
			victims = append(victims, e.Node.ID)
		}
	}
	type pending struct{ token, appt string }
	var late []pending
	for i := 0; i < 6; i++ {
		tok, appt := f.completed(t, fmt.Sprintf("Late%d Rater", i))
		late = append(late, pending{tok, appt})
	}
	var wg sync.WaitGroup
	for i, l := range late {
		wg.Add(1)
		go func(i int, l pending) {
			defer wg.Done()
			if r := env.Do(l.token, rateOp, map[string]any{"id": l.appt, "s": 1 + i%5}); r.Code() != "" {
				t.Errorf("late rating %d: %+v", i, r.Errors)
			}
		}(i, l)
	}
	for _, id := range victims {
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			if r := env.Do(admin, hideOp, map[string]any{"id": id, "r": "abuse"}); r.Code() != "" {
				t.Errorf("hiding %s: %+v", id, r.Errors)
			}
		}(id)
	}
	wg.Wait()
	// 5 + 4 visible early, and 1+2+3+4+5+1 late.
	p = f.page(t, "", 50, nil)
	if want := (9.0 + 16.0) / 8; p.Node.Rating == nil || math.Abs(*p.Node.Rating-want) > 1e-9 || p.Node.RatingCount != 8 {
		t.Fatalf("rating %v over %d, want %v over 8", p.Node.Rating, p.Node.RatingCount, want)
	}
}
