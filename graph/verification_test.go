package graph_test

import (
	"strconv"
	"testing"

	"github.com/healthmed/healthmed/ent/auditevent"
	"github.com/healthmed/healthmed/internal/apptest"
)

const (
	awaitingOp = `query($first: Int, $after: Cursor) { doctorsAwaitingVerification(first: $first, after: $after) {
		pageInfo { hasNextPage endCursor } edges { node { id name crm specialty registrySearchUrl verification } } } }`
	verifyOp       = `mutation($id: ID!) { verifyDoctor(id: $id) { id verification rejectionReason } }`
	rejectDoctorOp = `mutation($id: ID!, $r: String!) { rejectDoctor(id: $id, reason: $r) { id verification rejectionReason } }`
	myVerifyOp     = `{ viewer { ... on Doctor { verification rejectionReason } } }`
	nodeVerifyOp   = `query($id: ID!) { node(id: $id) { ... on Doctor { name verification } } }`
	listedOp       = `query($near: GeoPointInput) { doctors(near: $near, first: 100) { edges { node { id } } } }`
	listedByIDOp   = `{ doctors(first: 100) { edges { node { id } } } }`
)

// listed says whether the doctor is in the public search, by distance and
// by id.
func listed(t *testing.T, env *apptest.Env, id string) (near, byID bool) {
	t.Helper()
	var out struct {
		Doctors struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	for i, op := range []string{listedOp, listedByIDOp} {
		env.Do("", op, map[string]any{"near": saoPaulo}).Decode(t, &out)
		for _, e := range out.Doctors.Edges {
			if e.Node.ID == id {
				if i == 0 {
					near = true
				} else {
					byID = true
				}
			}
		}
	}
	return near, byID
}

func TestDoctorVerificationLifeCycle(t *testing.T) {
	env := apptest.New(t)
	admin := env.AdminToken(t, "Clinic admin")
	doc, crm := env.PendingDoctor("Dr. Newcomer", "Cardiology", -23.55, -46.63)
	docID := viewerID(t, env, doc)
	other, _ := env.Doctor("Dr. Known", "Cardiology", -23.56, -46.64)
	pat, _, _ := env.Patient("Paula")
	early := createSlot(t, env, doc, tomorrowAt(9), 30)

	// Pending: out of the search, not bookable, and says so to the doctor.
	if near, byID := listed(t, env, docID); near || byID {
		t.Fatalf("a pending doctor is listed (near %v, by id %v)", near, byID)
	}
	if r := env.Do(pat, bookOp, map[string]any{"slot": early}); r.Code() != "NOT_FOUND" {
		t.Fatalf("booking a pending doctor: %q %s", r.Code(), r.Data)
	}
	var mine struct{ Viewer struct{ Verification string } }
	env.Do(doc, myVerifyOp, nil).Decode(t, &mine)
	if mine.Viewer.Verification != "PENDING" {
		t.Fatalf("the doctor reads %q", mine.Viewer.Verification)
	}
	// The verification is the doctor's and the administrators' business.
	for name, token := range map[string]string{"patient": pat, "another doctor": other, "anonymous": ""} {
		if r := env.Do(token, nodeVerifyOp, map[string]any{"id": docID}); r.Code() != "FORBIDDEN" {
			t.Fatalf("%s reads the verification: %q %s", name, r.Code(), r.Data)
		}
	}
	for name, tc := range map[string]struct{ token, code string }{
		"anonymous": {"", "UNAUTHENTICATED"}, "doctor": {doc, "FORBIDDEN"}, "patient": {pat, "FORBIDDEN"},
	} {
		for _, op := range []string{awaitingOp, verifyOp} {
			if r := env.Do(tc.token, op, map[string]any{"id": docID}); r.Code() != tc.code {
				t.Fatalf("%s calls %.40s: %q, want %q", name, op, r.Code(), tc.code)
			}
		}
	}

	// The administrator's queue shows what the registry is searched by.
	var queue struct {
		DoctorsAwaitingVerification struct {
			Edges []struct {
				Node struct{ ID, Name, Crm, Specialty, RegistrySearchURL, Verification string }
			}
		}
	}
	env.Do(admin, awaitingOp, nil).Decode(t, &queue)
	edges := queue.DoctorsAwaitingVerification.Edges
	if len(edges) != 1 || edges[0].Node.ID != docID || edges[0].Node.Crm != crm ||
		edges[0].Node.Name != "Dr. Newcomer" || edges[0].Node.Specialty != "Cardiologia" ||
		edges[0].Node.RegistrySearchURL == "" || edges[0].Node.Verification != "PENDING" {
		t.Fatalf("queue %+v", edges)
	}

	// Verified: listed at once and bookable.
	var verified struct{ VerifyDoctor struct{ Verification string } }
	env.Do(admin, verifyOp, map[string]any{"id": docID}).Decode(t, &verified)
	if verified.VerifyDoctor.Verification != "VERIFIED" {
		t.Fatalf("verifyDoctor: %+v", verified)
	}
	if r := env.Do(admin, verifyOp, map[string]any{"id": docID}); r.Code() != "CONFLICT" || r.Ext("reason") != "INVALID_TRANSITION" {
		t.Fatalf("verifying twice: %q %q", r.Code(), r.Ext("reason"))
	}
	if near, byID := listed(t, env, docID); !near || !byID {
		t.Fatalf("a verified doctor is not listed (near %v, by id %v)", near, byID)
	}
	env.Do(admin, awaitingOp, nil).Decode(t, &queue)
	if len(queue.DoctorsAwaitingVerification.Edges) != 0 {
		t.Fatalf("the queue still holds %+v", queue.DoctorsAwaitingVerification.Edges)
	}
	booked := book(t, env, pat, early)

	// Rejected later (a CRM suspended): out of the search and the
	// bookings; what was booked stays.
	if r := env.Do(admin, rejectDoctorOp, map[string]any{"id": docID, "r": "  "}); r.Code() != "BAD_USER_INPUT" || r.Ext("field") != "reason" {
		t.Fatalf("an empty reason: %q %q", r.Code(), r.Ext("field"))
	}
	var rejected struct {
		RejectDoctor struct{ Verification, RejectionReason string }
	}
	env.Do(admin, rejectDoctorOp, map[string]any{"id": docID, "r": "CRM not active in the registry"}).Decode(t, &rejected)
	if rejected.RejectDoctor.Verification != "REJECTED" || rejected.RejectDoctor.RejectionReason != "CRM not active in the registry" {
		t.Fatalf("rejectDoctor: %+v", rejected)
	}
	var told struct {
		Viewer struct{ Verification, RejectionReason string }
	}
	env.Do(doc, myVerifyOp, nil).Decode(t, &told)
	if told.Viewer.Verification != "REJECTED" || told.Viewer.RejectionReason == "" {
		t.Fatalf("the doctor reads %+v", told.Viewer)
	}
	if near, byID := listed(t, env, docID); near || byID {
		t.Fatal("a rejected doctor is listed")
	}
	late := createSlot(t, env, doc, tomorrowAt(11), 30)
	if r := env.Do(pat, bookOp, map[string]any{"slot": late}); r.Code() != "NOT_FOUND" {
		t.Fatalf("booking a rejected doctor: %q", r.Code())
	}
	var appt struct{ Node struct{ Status string } }
	env.Do(pat, `query($id: ID!) { node(id: $id) { ... on Appointment { status } } }`, map[string]any{"id": booked}).Decode(t, &appt)
	if appt.Node.Status != "REQUESTED" {
		t.Fatalf("the earlier booking: %+v", appt.Node)
	}

	// Both decisions are in the audit log, by whom and about whom.
	n, _ := strconv.Atoi(docID)
	events, err := env.DB.Client.AuditEvent.Query().Where(auditevent.DoctorID(n)).
		Order(auditevent.ByID()).All(sysCtx())
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || events[0].Action != auditevent.ActionVERIFY_DOCTOR || events[1].Action != auditevent.ActionREJECT_DOCTOR ||
		events[0].ActorRole != "admin" || events[0].ActorID == nil || !events[1].Allowed ||
		events[1].Detail != "VERIFIED -> REJECTED: CRM not active in the registry" {
		t.Fatalf("audit %+v", events)
	}
	// And a decision on nobody is NOT_FOUND.
	if r := env.Do(admin, verifyOp, map[string]any{"id": "12884999999"}); r.Code() != "NOT_FOUND" {
		t.Fatalf("verifying a missing doctor: %q", r.Code())
	}
}

func TestDoctorsAwaitingVerificationPages(t *testing.T) {
	env := apptest.New(t)
	admin := env.AdminToken(t, "Clinic admin")
	want := map[string]bool{}
	for i := 0; i < 3; i++ {
		tok, _ := env.PendingDoctor("Dr. Queue", "Cardiology", -23.5, -46.6)
		want[viewerID(t, env, tok)] = true
	}
	var page struct {
		DoctorsAwaitingVerification struct {
			PageInfo struct {
				HasNextPage bool
				EndCursor   string
			}
			Edges []struct{ Node struct{ ID string } }
		}
	}
	vars := map[string]any{"first": 2}
	seen := 0
	for {
		env.Do(admin, awaitingOp, vars).Decode(t, &page)
		for _, e := range page.DoctorsAwaitingVerification.Edges {
			if !want[e.Node.ID] {
				t.Fatalf("unexpected or repeated %s", e.Node.ID)
			}
			delete(want, e.Node.ID)
			seen++
		}
		if !page.DoctorsAwaitingVerification.PageInfo.HasNextPage {
			break
		}
		vars["after"] = page.DoctorsAwaitingVerification.PageInfo.EndCursor
	}
	if seen != 3 {
		t.Fatalf("paged through %d doctors", seen)
	}
	if r := env.Do(admin, awaitingOp, map[string]any{"first": 1000}); r.Code() != "BAD_USER_INPUT" {
		t.Fatalf("first 1000: %q", r.Code())
	}
}

func TestAdministratorCorrectsACRM(t *testing.T) {
	env := apptest.New(t)
	admin := env.AdminToken(t, "Clinic admin")
	doc, _ := env.PendingDoctor("Dr. Typo", "Cardiology", -23.55, -46.63)
	id := viewerID(t, env, doc)
	_, taken := env.Doctor("Dr. Other", "Cardiology", -23.55, -46.63)
	const correctOp = `mutation($id: ID!, $crm: String!) { correctDoctorCrm(id: $id, crm: $crm) { crm verification } }`

	for name, tc := range map[string]struct {
		token, crm, code, detail string
	}{
		"the doctor themself":  {doc, "765432/RJ", "FORBIDDEN", ""},
		"a malformed CRM":      {admin, "765432/XX", "BAD_USER_INPUT", "crm"},
		"another doctor's CRM": {admin, taken, "CONFLICT", "ALREADY_REGISTERED"},
	} {
		r := env.Do(tc.token, correctOp, map[string]any{"id": id, "crm": tc.crm})
		got := r.Ext("field")
		if tc.code == "CONFLICT" {
			got = r.Ext("reason")
		}
		if r.Code() != tc.code || got != tc.detail {
			t.Fatalf("%s: %q %q, want %q %q", name, r.Code(), got, tc.code, tc.detail)
		}
	}
	var out struct {
		CorrectDoctorCrm struct{ Crm, Verification string }
	}
	env.Do(admin, correctOp, map[string]any{"id": id, "crm": "crm-rj 0765432"}).Decode(t, &out)
	if out.CorrectDoctorCrm.Crm != "765432/RJ" || out.CorrectDoctorCrm.Verification != "PENDING" {
		t.Fatalf("corrected: %+v", out.CorrectDoctorCrm)
	}
	// The doctor signs in with the CRM as corrected.
	if r := env.Do("", `mutation { loginDoctor(crm: "765432/RJ", password: "correct horse battery") { token } }`, nil); r.Code() != "" {
		t.Fatalf("login with the corrected CRM: %+v", r.Errors)
	}
	n, _ := strconv.Atoi(id)
	ev, err := env.DB.Client.AuditEvent.Query().Where(auditevent.DoctorID(n), auditevent.ActionEQ(auditevent.ActionCORRECT_CRM)).Only(sysCtx())
	if err != nil || ev.Detail == "" || ev.ActorRole != "admin" {
		t.Fatalf("audit of the correction: %v %+v", err, ev)
	}
}
