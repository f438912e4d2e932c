package graph_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent/notification"
	"github.com/healthmed/healthmed/ent/waitlistentry"
	"github.com/healthmed/healthmed/ent/waitlistoffer"
	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/waitlist"
)

const (
	joinWaitlistOp  = `mutation($doc: ID!, $from: Time, $to: Time) { joinWaitlist(doctorId: $doc, from: $from, to: $to) { id status position } }`
	leaveWaitlistOp = `mutation($id: ID!) { leaveWaitlist(id: $id) }`
	waitlistOp      = `{ waitlistEntries { id status position doctor { name } offer { slot { id } expiresAt } } }`
	waitlistSub     = `subscription { waitlistOffered { id position offer { slot { id } expiresAt } } }`
	doctorIDOp      = `{ viewer { ... on Doctor { id } } }`
)

type entryOut struct {
	ID, Status string
	Position   *int
	Doctor     struct{ Name string }
	Offer      *struct {
		Slot      struct{ ID string }
		ExpiresAt time.Time
	}
}

func doctorID(t *testing.T, env *apptest.Env, token string) string {
	t.Helper()
	var out struct{ Viewer struct{ ID string } }
	env.Do(token, doctorIDOp, nil).Decode(t, &out)
	return out.Viewer.ID
}

func join(t *testing.T, env *apptest.Env, token, doc string, from, to *time.Time) string {
	t.Helper()
	vars := map[string]any{"doc": doc}
	if from != nil {
		vars["from"] = from.Format(time.RFC3339)
	}
	if to != nil {
		vars["to"] = to.Format(time.RFC3339)
	}
	var out struct{ JoinWaitlist entryOut }
	env.Do(token, joinWaitlistOp, vars).Decode(t, &out)
	return out.JoinWaitlist.ID
}

func entries(t *testing.T, env *apptest.Env, token string) []entryOut {
	t.Helper()
	var out struct{ WaitlistEntries []entryOut }
	env.Do(token, waitlistOp, nil).Decode(t, &out)
	return out.WaitlistEntries
}

func TestWaitlistJoinPositionAndLeave(t *testing.T) {
	env := apptest.New(t)
	docTok, _ := env.Doctor("Dr. Busy", "Cardiology", -23.5, -46.6)
	doc := doctorID(t, env, docTok)
	p1, _, _ := env.Patient("Ana")
	p2, _, _ := env.Patient("Bia")
	e1 := join(t, env, p1, doc, nil, nil)
	from, to := tomorrowAt(8), tomorrowAt(12)
	e2 := join(t, env, p2, doc, &from, &to)

	if got := entries(t, env, p2); len(got) != 1 || got[0].ID != e2 || *got[0].Position != 2 || got[0].Doctor.Name != "Dr. Busy" {
		t.Fatalf("second in line sees %+v", got)
	}
	for _, tc := range []struct {
		name, token string
		vars        map[string]any
		code, why   string
	}{
		{"twice in one line", p1, map[string]any{"doc": doc}, "CONFLICT", "ALREADY_WAITLISTED"},
		{"a range that ends before it starts", p1, map[string]any{"doc": doc, "from": to.Format(time.RFC3339), "to": from.Format(time.RFC3339)}, "BAD_USER_INPUT", "to"},
		{"a range in the past", p1, map[string]any{"doc": doc, "to": time.Now().Add(-time.Hour).Format(time.RFC3339)}, "BAD_USER_INPUT", "to"},
		{"no such doctor", p1, map[string]any{"doc": "999999"}, "NOT_FOUND", ""},
		{"a doctor", docTok, map[string]any{"doc": doc}, "FORBIDDEN", ""},
		{"anonymous", "", map[string]any{"doc": doc}, "UNAUTHENTICATED", ""},
	} {
		r := env.Do(tc.token, joinWaitlistOp, tc.vars)
		if r.Code() != tc.code || (tc.code == "CONFLICT" && r.Ext("reason") != tc.why) || (tc.code == "BAD_USER_INPUT" && r.Ext("field") != tc.why) {
			t.Errorf("%s: %s %s %s", tc.name, r.Code(), r.Ext("reason"), r.Ext("field"))
		}
	}
	// Another patient's entry is not there for them: not to read, not to leave.
	if r := env.Do(p2, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": e1}); r.Code() != "NOT_FOUND" {
		t.Fatalf("a patient read another's waitlist entry: %s", r.Code())
	}
	if r := env.Do(p2, leaveWaitlistOp, map[string]any{"id": e1}); r.Code() != "NOT_FOUND" {
		t.Fatalf("leaving another's entry: %s", r.Code())
	}
	var left struct{ LeaveWaitlist string }
	env.Do(p1, leaveWaitlistOp, map[string]any{"id": e1}).Decode(t, &left)
	env.Do(p1, leaveWaitlistOp, map[string]any{"id": e1}).Decode(t, &left) // twice is harmless
	if left.LeaveWaitlist != e1 || len(entries(t, env, p1)) != 0 {
		t.Fatalf("left %q, entries %v", left.LeaveWaitlist, entries(t, env, p1))
	}
	if got := entries(t, env, p2); *got[0].Position != 1 {
		t.Fatalf("after the first left, the second is at %d", *got[0].Position)
	}
	// Back in line, at the end.
	join(t, env, p1, doc, nil, nil)
	if got := entries(t, env, p1); *got[0].Position != 2 {
		t.Fatalf("rejoined at %d", *got[0].Position)
	}
}

// TestFreedSlotIsHeldForTheFirstInLine follows one freed slot through
// the line: held for the first whose range covers it, pushed live and
// written to the outbox, refused to everyone else, handed on at expiry
// and on leaving, and booked by its holder.
func TestFreedSlotIsHeldForTheFirstInLine(t *testing.T) {
	env := apptest.New(t)
	docTok, _ := env.Doctor("Dr. Full", "Cardiology", -23.5, -46.6)
	doc := doctorID(t, env, docTok)
	booker, _, _ := env.Patient("Booker")
	outsider, _, _ := env.Patient("Outsider")
	early, _, _ := env.Patient("Early")
	second, _, _ := env.Patient("Second")
	third, _, _ := env.Patient("Third")
	fourth, _, _ := env.Patient("Fourth")
	slot := createSlot(t, env, docTok, tomorrowAt(15), 50)
	appt := book(t, env, booker, slot)

	from, to := tomorrowAt(8), tomorrowAt(12) // 15:00 is outside
	join(t, env, early, doc, &from, &to)
	e2 := join(t, env, second, doc, nil, nil)
	e3 := join(t, env, third, doc, nil, nil)
	join(t, env, fourth, doc, nil, nil)
	ws := env.Connect(t, apptest.TransportWS, second)
	ws.SubscribeLive("w", waitlistSub, nil)

	env.Do(booker, cancelOp, map[string]any{"id": appt, "r": "travel"}).Decode(t, &struct{}{})
	var pushed struct{ WaitlistOffered entryOut }
	ws.NextData("w", &pushed)
	if pushed.WaitlistOffered.ID != e2 || pushed.WaitlistOffered.Offer == nil || pushed.WaitlistOffered.Offer.Slot.ID != slot {
		t.Fatalf("pushed %+v", pushed.WaitlistOffered)
	}
	if left := time.Until(pushed.WaitlistOffered.Offer.ExpiresAt); left < 14*time.Minute || left > 16*time.Minute {
		t.Fatalf("held for %v, want the default 15m", left)
	}
	if got := entries(t, env, early); got[0].Offer != nil {
		t.Fatal("offered a slot outside the entry's range")
	}
	for who, token := range map[string]string{"outsider": outsider, "third in line": third, "the one who cancelled": booker} {
		if r := env.Do(token, bookOp, map[string]any{"slot": slot}); r.Code() != "CONFLICT" || r.Ext("reason") != "SLOT_HELD" {
			t.Fatalf("%s booked a held slot: %s %s", who, r.Code(), r.Ext("reason"))
		}
	}
	ctx := sysCtx()
	if n, err := env.DB.Client.Notification.Query().Where(notification.KindEQ(notification.KindWAITLIST_OFFERED)).Count(ctx); err != nil || n != 1 {
		t.Fatalf("%d offer notices (%v)", n, err)
	}

	// The hold runs out: the next in line gets the slot.
	if n, err := env.App.Waitlist.ExpireHolds(context.Background(), time.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("expired %d (%v)", n, err)
	}
	if got := entries(t, env, second); got[0].Offer != nil || *got[0].Position != 2 {
		t.Fatalf("after expiry the second still has %+v", got[0])
	}
	if got := entries(t, env, third); got[0].Offer == nil || got[0].Offer.Slot.ID != slot {
		t.Fatalf("the third was not offered the slot: %+v", got[0])
	}
	if r := env.Do(second, bookOp, map[string]any{"slot": slot}); r.Ext("reason") != "SLOT_HELD" {
		t.Fatalf("an expired holder booked: %s %s", r.Code(), r.Ext("reason"))
	}
	// The third leaves: the fourth gets it (the second had it already).
	env.Do(third, leaveWaitlistOp, map[string]any{"id": e3}).Decode(t, &struct{}{})
	got := entries(t, env, fourth)
	if got[0].Offer == nil {
		t.Fatalf("the fourth was not offered the slot: %+v", got[0])
	}
	book(t, env, fourth, slot)
	if got := entries(t, env, fourth); len(got) != 0 {
		t.Fatalf("the fourth is still waiting after booking: %+v", got)
	}
	held, err := env.DB.Client.WaitlistOffer.Query().Where(waitlistoffer.StatusEQ(waitlistoffer.StatusHELD)).Count(ctx)
	if err != nil || held != 0 {
		t.Fatalf("%d holds left (%v)", held, err)
	}
	statuses := map[waitlistoffer.Status]int{}
	offers, _ := env.DB.Client.WaitlistOffer.Query().All(ctx)
	for _, o := range offers {
		statuses[o.Status]++
	}
	if statuses[waitlistoffer.StatusEXPIRED] != 1 || statuses[waitlistoffer.StatusWITHDRAWN] != 1 || statuses[waitlistoffer.StatusBOOKED] != 1 {
		t.Fatalf("offers %v", statuses)
	}
}

// TestNewAndRescheduledAwaySlotsGoToTheWaitlist: a slot the doctor opens,
// and one an appointment leaves, are offered too.
func TestNewAndRescheduledAwaySlotsGoToTheWaitlist(t *testing.T) {
	env := apptest.New(t)
	docTok, _ := env.Doctor("Dr. Open", "Cardiology", -23.5, -46.6)
	doc := doctorID(t, env, docTok)
	mover, _, _ := env.Patient("Mover")
	first, _, _ := env.Patient("First")
	second, _, _ := env.Patient("Second")
	s1 := createSlot(t, env, docTok, tomorrowAt(9), 50)
	appt := book(t, env, mover, s1)
	join(t, env, first, doc, nil, nil)
	join(t, env, second, doc, nil, nil)
	s2 := createSlot(t, env, docTok, tomorrowAt(11), 50)
	if got := entries(t, env, first); got[0].Offer == nil || got[0].Offer.Slot.ID != s2 {
		t.Fatalf("a new slot was not offered: %+v", got[0])
	}
	// The mover may not move into it; the slot they leave goes to the second.
	if r := env.Do(mover, rescheduleOp, map[string]any{"id": appt, "slot": s2}); r.Ext("reason") != "SLOT_HELD" {
		t.Fatalf("rescheduled into a held slot: %s %s", r.Code(), r.Ext("reason"))
	}
	s3 := createSlot(t, env, docTok, tomorrowAt(13), 50) // to the second
	if got := entries(t, env, second); got[0].Offer == nil || got[0].Offer.Slot.ID != s3 {
		t.Fatalf("%+v", got[0])
	}
	// The second leaves: s3 is free again, nobody left in line without a
	// hold. The third joins; the mover moves into s3, and the slot they
	// leave goes to the third.
	env.Do(second, leaveWaitlistOp, map[string]any{"id": entries(t, env, second)[0].ID}).Decode(t, &struct{}{})
	if !slotFree(t, env, mover, s3) {
		t.Fatal("a slot left by a leaving holder is not free")
	}
	third, _, _ := env.Patient("Third")
	join(t, env, third, doc, nil, nil)
	env.Do(mover, rescheduleOp, map[string]any{"id": appt, "slot": s3}).Decode(t, &struct{}{})
	if got := entries(t, env, third); got[0].Offer == nil || got[0].Offer.Slot.ID != s1 {
		t.Fatalf("the slot rescheduled away from was not offered: %+v", got[0])
	}
	// The mover is never offered the slot they left.
	if r := env.Do(mover, rescheduleOp, map[string]any{"id": appt, "slot": s1}); r.Ext("reason") != "SLOT_HELD" {
		t.Fatalf("moved back into a held slot: %s %s", r.Code(), r.Ext("reason"))
	}
}

// TestManyWaitlistedPatientsRaceForOneFreedSlot: many patients in line
// while the slot is freed and other replicas try to offer it at the same
// moment; exactly one hold, for the first in line, then exactly one
// booking among everyone who tries at once.
func TestManyWaitlistedPatientsRaceForOneFreedSlot(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled())
	docTok, _ := env.Doctor("Dr. Wanted", "Cardiology", -23.5, -46.6)
	doc := doctorID(t, env, docTok)
	booker := env.PatientToken(t, "Booker")
	slot := createSlot(t, env, docTok, tomorrowAt(10), 50)
	appt := book(t, env, booker, slot)
	const n = 30
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = env.PatientToken(t, fmt.Sprintf("Waiting %d", i))
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if r := env.Do(tokens[i], joinWaitlistOp, map[string]any{"doc": doc}); r.Code() != "" {
				t.Errorf("join %d: %s", i, r.Code())
			}
		}()
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// The cancellation and four replicas' offers of the same slot at once.
	docID, slotID := atoi(t, doc), atoi(t, slot)
	start = make(chan struct{})
	errs := make(chan error, 5)
	wg.Add(5)
	go func() {
		defer wg.Done()
		<-start
		if r := env.Do(booker, cancelOp, map[string]any{"id": appt, "r": "cannot come"}); r.Code() != "" {
			t.Errorf("cancel: %s", r.Code())
		}
	}()
	for range 4 {
		go func() {
			defer wg.Done()
			<-start
			tx, err := env.DB.Client.Tx(sysCtx())
			if err != nil {
				errs <- err
				return
			}
			if err := waitlist.Offer(sysCtx(), tx.Client(), docID, slotID); err != nil {
				_ = tx.Rollback()
				errs <- err
				return
			}
			errs <- tx.Commit()
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a concurrent offer failed: %v", err)
		}
	}
	ctx := sysCtx()
	holds, err := env.DB.Client.WaitlistOffer.Query().Where(waitlistoffer.StatusEQ(waitlistoffer.StatusHELD)).WithEntry().All(ctx)
	if err != nil || len(holds) != 1 {
		t.Fatalf("%d holds (%v), want exactly one", len(holds), err)
	}
	firstInLine, err := env.DB.Client.WaitlistEntry.Query().
		Order(waitlistentry.ByCreatedAt(), waitlistentry.ByID()).First(ctx)
	if err != nil || holds[0].EntryID != firstInLine.ID {
		t.Fatalf("held for entry %d, the first in line is %v (%v)", holds[0].EntryID, firstInLine, err)
	}

	// Everyone in line, and someone who is not, books it at once.
	outsider := env.PatientToken(t, "Outsider")
	all := append(tokens, outsider)
	results := make([]string, len(all))
	start = make(chan struct{})
	for i, tok := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := env.Do(tok, bookOp, map[string]any{"slot": slot})
			results[i] = r.Code() + "/" + r.Ext("reason")
		}()
	}
	close(start)
	wg.Wait()
	count := map[string]int{}
	for _, r := range results {
		count[r]++
	}
	if count["/"] != 1 || count["CONFLICT/SLOT_HELD"]+count["CONFLICT/SLOT_TAKEN"] != len(all)-1 {
		t.Fatalf("outcomes %v, want one booking and %d refusals", count, len(all)-1)
	}
	won, err := env.DB.Client.WaitlistOffer.Get(ctx, holds[0].ID)
	if err != nil || won.Status != waitlistoffer.StatusBOOKED {
		t.Fatalf("the hold is %v (%v), want BOOKED by its holder", won, err)
	}
}

// TestTwoReplicasHandOnExpiredHoldsOnce: the expiry job runs on every
// replica; run on two at once over many expired holds, each hold is
// handed on exactly once, to the next in line.
func TestTwoReplicasHandOnExpiredHoldsOnce(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled())
	other := env.Replica(t)
	docTok, _ := env.Doctor("Dr. Two Replicas", "Cardiology", -23.5, -46.6)
	doc := doctorID(t, env, docTok)
	const slots, waiting = 12, 24
	for i := range waiting {
		join(t, env, env.PatientToken(t, fmt.Sprintf("Waiting %d", i)), doc, nil, nil)
	}
	for i := range slots {
		createSlot(t, env, docTok, tomorrowAt(7).Add(time.Duration(i)*time.Hour), 50)
	}
	ctx := sysCtx()
	first, err := env.DB.Client.WaitlistOffer.Query().Where(waitlistoffer.StatusEQ(waitlistoffer.StatusHELD)).IDs(ctx)
	if err != nil || len(first) != slots {
		t.Fatalf("%d holds (%v), want one per new slot", len(first), err)
	}
	later := time.Now().Add(time.Hour)
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i, e := range []*apptest.Env{env, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := e.App.Waitlist.ExpireHolds(context.Background(), later)
			if err != nil {
				t.Errorf("replica %d: %v", i, err)
			}
			counts[i] = n
		}()
	}
	wg.Wait()
	if counts[0]+counts[1] != slots {
		t.Fatalf("the replicas handed on %v holds, want %d in all", counts, slots)
	}
	holds, err := env.DB.Client.WaitlistOffer.Query().Where(waitlistoffer.StatusEQ(waitlistoffer.StatusHELD)).All(ctx)
	if err != nil || len(holds) != slots {
		t.Fatalf("%d holds after the hand-on (%v), want %d", len(holds), err, slots)
	}
	for _, h := range holds {
		for _, id := range first {
			if h.ID == id {
				t.Fatalf("hold %d survived its expiry", id)
			}
		}
	}
	expired, err := env.DB.Client.WaitlistOffer.Query().Where(waitlistoffer.StatusEQ(waitlistoffer.StatusEXPIRED)).Count(ctx)
	if err != nil || expired != slots {
		t.Fatalf("%d expired (%v)", expired, err)
	}
}

// TestWaitlistOfferedResumesOnAnotherReplica: an offer made while the
// patient's socket was down is replayed when the client resubscribes,
// on any replica, as the other subscriptions are.
func TestWaitlistOfferedResumesOnAnotherReplica(t *testing.T) {
	a := apptest.New(t)
	b := a.Replica(t)
	docTok, _ := a.Doctor("Dr. Resume Offer", "Cardiology", -23.5, -46.6)
	pat, _, _ := a.Patient("Paula")
	join(t, a, pat, doctorID(t, a, docTok), nil, nil)
	w := a.Connect(t, apptest.TransportWS, pat)
	w.SubscribeLive("1", waitlistSub, nil)
	s1 := createSlot(t, a, docTok, tomorrowAt(8), 30)
	var m struct{ WaitlistOffered entryOut }
	w.NextData("1", &m)
	if m.WaitlistOffered.Offer == nil || m.WaitlistOffered.Offer.Slot.ID != s1 {
		t.Fatalf("first offer %+v", m.WaitlistOffered)
	}
	w.Close()
	time.Sleep(200 * time.Millisecond) // a client's reconnect back-off
	if _, err := a.App.Waitlist.ExpireHolds(context.Background(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	s2 := createSlot(t, a, docTok, tomorrowAt(10), 30)

	w2 := b.Connect(t, apptest.TransportWS, pat)
	w2.Subscribe("1", waitlistSub, nil)
	w2.NextData("1", &m)
	if m.WaitlistOffered.Offer == nil || m.WaitlistOffered.Offer.Slot.ID != s2 {
		t.Fatalf("resumed with %+v, want the offer of %s", m.WaitlistOffered, s2)
	}
	if msg, err := w2.Next(time.Second); err == nil {
		t.Fatalf("a duplicate: %+v %s", msg, msg.Payload)
	}
}

// TestClosedAccountLeavesEveryLine: a patient who closes their account
// waits in no line, and the slot held for them goes to the next; their
// export lists the lines they joined.
func TestClosedAccountLeavesEveryLine(t *testing.T) {
	env := apptest.New(t)
	docTok, _ := env.Doctor("Dr. Closing", "Cardiology", -23.5, -46.6)
	doc := doctorID(t, env, docTok)
	leaving, _, _ := env.Patient("Leaving")
	next, _, _ := env.Patient("Next")
	entry := join(t, env, leaving, doc, nil, nil)
	join(t, env, next, doc, nil, nil)
	slot := createSlot(t, env, docTok, tomorrowAt(9), 50)
	if got := entries(t, env, leaving); got[0].Offer == nil {
		t.Fatal("the first in line holds nothing")
	}
	status, body := export(t, env, leaving)
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if status != 200 || err != nil {
		t.Fatalf("export %d (%v)", status, err)
	}
	var data struct{ Waitlist []struct{ ID int } }
	for _, f := range zr.File {
		if f.Name == "data.json" {
			rc, _ := f.Open()
			if err := json.NewDecoder(rc).Decode(&data); err != nil {
				t.Fatal(err)
			}
			rc.Close()
		}
	}
	if len(data.Waitlist) != 1 || data.Waitlist[0].ID != atoi(t, entry) {
		t.Fatalf("the export's waitlist: %+v", data.Waitlist)
	}
	env.Do(leaving, deactivateOp, map[string]any{"pw": "correct horse battery"}).Decode(t, &struct{}{})
	if got := entries(t, env, next); got[0].Offer == nil || got[0].Offer.Slot.ID != slot || *got[0].Position != 1 {
		t.Fatalf("the next in line after a closed account: %+v", got[0])
	}
	e, err := env.DB.Client.WaitlistEntry.Get(sysCtx(), atoi(t, entry))
	if err != nil || e.Status != waitlistentry.StatusLEFT {
		t.Fatalf("the closed account's entry: %v (%v)", e, err)
	}
}

// TestWaitlistOfferedResumesAfterAGivenEvent: a client that kept an
// entry's lastEventId resumes from it explicitly.
func TestWaitlistOfferedResumesAfterAGivenEvent(t *testing.T) {
	env := apptest.New(t)
	docTok, _ := env.Doctor("Dr. After", "Cardiology", -23.5, -46.6)
	pat, _, _ := env.Patient("Alice")
	entry := join(t, env, pat, doctorID(t, env, docTok), nil, nil)
	createSlot(t, env, docTok, tomorrowAt(8), 30)
	var q struct {
		Node struct{ LastEventID *string }
	}
	env.Do(pat, `query($id: ID!) { node(id: $id) { ... on WaitlistEntry { lastEventId } } }`, map[string]any{"id": entry}).Decode(t, &q)
	if q.Node.LastEventID == nil {
		t.Fatal("no lastEventId after an offer")
	}
	if _, err := env.App.Waitlist.ExpireHolds(context.Background(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	missed := createSlot(t, env, docTok, tomorrowAt(10), 30)
	w := env.Connect(t, apptest.TransportWS, pat)
	w.Subscribe("1", `subscription($after: ID) { waitlistOffered(after: $after) { id offer { slot { id } } } }`,
		map[string]any{"after": *q.Node.LastEventID})
	var m struct{ WaitlistOffered entryOut }
	w.NextData("1", &m)
	if m.WaitlistOffered.ID != entry || m.WaitlistOffered.Offer == nil || m.WaitlistOffered.Offer.Slot.ID != missed {
		t.Fatalf("resumed with %+v, want the offer of %s", m.WaitlistOffered, missed)
	}
}
