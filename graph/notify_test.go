package graph_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent/notification"
	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/viewer"
)

const (
	notificationsOp = `query($first: Int, $after: Cursor) { notifications(first: $first, after: $after) {
		totalCount edges { node { id kind read readAt startsAt createdAt
			appointment { id status } recordShare { id } } }
		pageInfo { hasNextPage endCursor } } }`
	unreadOp       = `{ unreadNotificationCount }`
	markReadOp     = `mutation($id: ID!) { markNotificationRead(id: $id) { id read readAt } }`
	markAllReadOp  = `mutation { markAllNotificationsRead }`
	nodeNoticeOp   = `query($id: ID!) { node(id: $id) { id ... on Notification { kind } } }`
	bookPlainOp    = `mutation($slot: ID!) { bookAppointment(slotId: $slot) { id } }`
	acceptPlainOp  = `mutation($id: ID!) { acceptAppointment(id: $id) { id } }`
	cancelPlainOp  = `mutation($id: ID!) { cancelAppointment(id: $id, reason: "imprevisto") { id } }`
	noticeFieldsOp = `query($id: ID!) { node(id: $id) { ... on Notification { read readAt } } }`
)

type notice struct {
	ID, Kind    string
	Read        bool
	ReadAt      *time.Time
	StartsAt    *time.Time
	CreatedAt   time.Time
	Appointment *struct{ ID, Status string }
	RecordShare *struct{ ID string }
}

type noticePage struct {
	Notifications struct {
		TotalCount int
		Edges      []struct{ Node notice }
		PageInfo   struct {
			HasNextPage bool
			EndCursor   string
		}
	}
}

func notices(t *testing.T, env *apptest.Env, token string, vars map[string]any) noticePage {
	t.Helper()
	var out noticePage
	env.Do(token, notificationsOp, vars).Decode(t, &out)
	return out
}

func unread(t *testing.T, env *apptest.Env, token string) int {
	t.Helper()
	var out struct{ UnreadNotificationCount int }
	env.Do(token, unreadOp, nil).Decode(t, &out)
	return out.UnreadNotificationCount
}

// Each user lists only their own notifications, newest first, pages
// through them, and marks them read; anyone else's is NOT_FOUND, by
// every path.
func TestNotificationListAndReadMarksArePrivate(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled())
	doc, _ := env.Doctor("Dra. Avisos", "Cardiology", -23.5, -46.6)
	otherDoc, _ := env.Doctor("Dr. Outro", "Cardiology", -23.5, -46.6)
	pat, _, _ := env.Patient("Paciente Avisos")
	otherPat, _, _ := env.Patient("Outra Paciente")
	var appts []string
	for i := 0; i < 3; i++ {
		appts = append(appts, book(t, env, pat, createSlot(t, env, doc, tomorrowAt(8+i), 30)))
	}
	if r := env.Do(doc, acceptPlainOp, map[string]any{"id": appts[0]}); r.Code() != "" {
		t.Fatalf("accept: %+v", r.Errors)
	}
	if r := env.Do(pat, cancelPlainOp, map[string]any{"id": appts[1]}); r.Code() != "" {
		t.Fatalf("cancel: %+v", r.Errors)
	}

	// The doctor: three requests and a cancellation, newest first.
	page := notices(t, env, doc, map[string]any{"first": 3})
	n := page.Notifications
	if n.TotalCount != 4 || len(n.Edges) != 3 || !n.PageInfo.HasNextPage {
		t.Fatalf("doctor's first page: %+v", n)
	}
	if k := n.Edges[0].Node.Kind; k != "BOOKING_CANCELLED" {
		t.Fatalf("newest first: got %s", k)
	}
	for i := 1; i < len(n.Edges); i++ {
		if n.Edges[i].Node.CreatedAt.After(n.Edges[i-1].Node.CreatedAt) {
			t.Fatal("not newest first")
		}
	}
	rest := notices(t, env, doc, map[string]any{"first": 3, "after": n.PageInfo.EndCursor}).Notifications
	if len(rest.Edges) != 1 || rest.PageInfo.HasNextPage || rest.Edges[0].Node.Kind != "BOOKING_REQUESTED" {
		t.Fatalf("doctor's second page: %+v", rest)
	}
	first := n.Edges[0].Node
	if first.Appointment == nil || first.Appointment.ID != appts[1] || first.Appointment.Status != "CANCELLED" ||
		first.StartsAt == nil || first.Read || first.ReadAt != nil {
		t.Fatalf("the cancellation notice: %+v", first)
	}

	// The patient: only the acceptance.
	pn := notices(t, env, pat, nil).Notifications
	if pn.TotalCount != 1 || pn.Edges[0].Node.Kind != "BOOKING_ACCEPTED" || pn.Edges[0].Node.Appointment.ID != appts[0] {
		t.Fatalf("patient's list: %+v", pn)
	}
	// Strangers: nothing.
	for _, tok := range []string{otherDoc, otherPat} {
		if got := notices(t, env, tok, nil).Notifications; got.TotalCount != 0 || len(got.Edges) != 0 {
			t.Fatalf("a stranger sees %+v", got)
		}
		if unread(t, env, tok) != 0 {
			t.Fatal("a stranger has unread notifications")
		}
	}

	// Someone else's notification cannot be marked, nor read by id.
	id := first.ID
	for _, tok := range []string{otherDoc, otherPat, pat} {
		if r := env.Do(tok, markReadOp, map[string]any{"id": id}); r.Code() != "NOT_FOUND" {
			t.Fatalf("marking someone else's notification: %q %+v", r.Code(), r.Errors)
		}
		var node struct{ Node *struct{ ID string } }
		if r := env.Do(tok, nodeNoticeOp, map[string]any{"id": id}); len(r.Errors) == 0 {
			r.Decode(t, &node)
			if node.Node != nil {
				t.Fatal("node() shows someone else's notification")
			}
		} else if r.Code() != "NOT_FOUND" {
			t.Fatalf("node(): %q", r.Code())
		}
	}
	if r := env.Do("", markReadOp, map[string]any{"id": id}); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("anonymous mark: %q", r.Code())
	}
	if r := env.Do("", notificationsOp, nil); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("anonymous list: %q", r.Code())
	}
	if unread(t, env, doc) != 4 {
		t.Fatal("a refused mark changed something")
	}

	// The owner marks one; marking again keeps the first time.
	var m1, m2 struct {
		MarkNotificationRead struct {
			ID     string
			Read   bool
			ReadAt *time.Time
		}
	}
	env.Do(doc, markReadOp, map[string]any{"id": id}).Decode(t, &m1)
	if !m1.MarkNotificationRead.Read || m1.MarkNotificationRead.ReadAt == nil {
		t.Fatalf("mark: %+v", m1)
	}
	time.Sleep(10 * time.Millisecond)
	env.Do(doc, markReadOp, map[string]any{"id": id}).Decode(t, &m2)
	if !m2.MarkNotificationRead.ReadAt.Equal(*m1.MarkNotificationRead.ReadAt) {
		t.Fatalf("marking again moved readAt from %v to %v", m1.MarkNotificationRead.ReadAt, m2.MarkNotificationRead.ReadAt)
	}
	if unread(t, env, doc) != 3 {
		t.Fatal("unread count after one mark")
	}

	// Mark all: only the viewer's own unread ones.
	var all struct{ MarkAllNotificationsRead int }
	env.Do(doc, markAllReadOp, nil).Decode(t, &all)
	if all.MarkAllNotificationsRead != 3 || unread(t, env, doc) != 0 {
		t.Fatalf("mark all changed %d", all.MarkAllNotificationsRead)
	}
	env.Do(doc, markAllReadOp, nil).Decode(t, &all)
	if all.MarkAllNotificationsRead != 0 {
		t.Fatalf("mark all again changed %d", all.MarkAllNotificationsRead)
	}
	if unread(t, env, pat) != 1 {
		t.Fatal("the doctor's mark-all touched the patient's notifications")
	}
	var own struct{ Node struct{ Read bool } }
	env.Do(pat, noticeFieldsOp, map[string]any{"id": pn.Edges[0].Node.ID}).Decode(t, &own)
	if own.Node.Read {
		t.Fatal("the patient's notification is read")
	}

	// Below the API too, the owner may only touch the read mark, and
	// nobody else anything.
	var me struct{ Viewer struct{ ID string } }
	env.Do(doc, myIDOp, nil).Decode(t, &me)
	docID, _ := strconv.Atoi(me.Viewer.ID)
	nid, _ := strconv.Atoi(id)
	asDoc := viewer.NewContext(context.Background(), viewer.Viewer{Role: viewer.Doctor, ID: docID})
	if err := env.DB.Client.Notification.UpdateOneID(nid).SetEmailStatus(notification.EmailStatusSENT).Exec(asDoc); err == nil {
		t.Fatal("the recipient changed the delivery status")
	}
	if err := env.DB.Client.Notification.DeleteOneID(nid).Exec(asDoc); err == nil {
		t.Fatal("the recipient deleted a notification")
	}
	asOther := viewer.NewContext(context.Background(), viewer.Viewer{Role: viewer.Doctor, ID: docID + 1})
	if err := env.DB.Client.Notification.UpdateOneID(nid).SetReadAt(time.Now()).Exec(asOther); err == nil {
		t.Fatal("someone else set the read mark")
	}
}

// A mutation that fails leaves no notification behind: the outbox row is
// part of the change's transaction.
func TestFailedBookingLeavesNoNotification(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled())
	doc, _ := env.Doctor("Dra. Rollback", "Cardiology", -23.5, -46.6)
	pat, _, _ := env.Patient("Primeira")
	late, _, _ := env.Patient("Segunda")
	slot := createSlot(t, env, doc, tomorrowAt(10), 30)
	book(t, env, pat, slot)
	if r := env.Do(late, bookPlainOp, map[string]any{"slot": slot}); r.Code() != "CONFLICT" {
		t.Fatalf("second booking: %q", r.Code())
	}
	if got := notices(t, env, doc, nil).Notifications.TotalCount; got != 1 {
		t.Fatalf("%d notifications for one booking", got)
	}
	// Beside the registrations' links, which the helpers followed.
	n, err := env.DB.Client.Notification.Query().Where(notification.RegistrationIDIsNil()).Count(sysCtx())
	if err != nil || n != 1 {
		t.Fatalf("%d outbox rows (err %v), want 1", n, err)
	}
}
