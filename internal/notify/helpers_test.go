package notify_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/mail"
	"strconv"
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/notification"
	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/notify"
	"github.com/healthmed/healthmed/internal/notify/smtptest"
	"github.com/healthmed/healthmed/internal/viewer"
)

const (
	createSlotsOp = `mutation($in: [SlotInput!]!) { createSlots(input: $in) { id startsAt } }`
	bookOp        = `mutation($slot: ID!) { bookAppointment(slotId: $slot) { id status } }`
	acceptOp      = `mutation($id: ID!) { acceptAppointment(id: $id) { id status } }`
	rejectOp      = `mutation($id: ID!, $r: String) { rejectAppointment(id: $id, reason: $r) { id status } }`
	cancelOp      = `mutation($id: ID!, $r: String!) { cancelAppointment(id: $id, reason: $r) { id status } }`
	viewerIDOp    = `{ viewer { ... on Doctor { id } ... on Patient { id } } }`
)

func sys() context.Context { return viewer.SystemContext(context.Background()) }

// newEnv is a server whose own notification worker does not run: each
// test runs the workers it needs.
func newEnv(t *testing.T) *apptest.Env {
	return apptest.New(t, apptest.Unthrottled())
}

// newWorker delivers to srv with timings fit for a test.
func newWorker(env *apptest.Env, srv *smtptest.Server, logs io.Writer) *notify.Worker {
	if logs == nil {
		logs = io.Discard
	}
	return &notify.Worker{
		Client:   env.DB.Client,
		Mailer:   &notify.SMTP{Host: srv.Host, Port: srv.Port, TLS: notify.TLSOpportunistic},
		Meetings: env.App.Agenda.Meetings,
		From:     mail.Address{Name: "healthmed", Address: "no-reply@healthmed.test"},
		Log:      slog.New(slog.NewTextHandler(logs, nil)),
		Lease:    2 * time.Second, SendTimeout: time.Second,
		RetryBase: 50 * time.Millisecond, RetryMax: time.Second,
		Poll: 20 * time.Millisecond,
	}
}

// runUntil runs w in the background until the test ends or stop is called.
func runUntil(t *testing.T, w *notify.Worker) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

func slotAt(start time.Time) map[string]any {
	return map[string]any{"startsAt": start.Format(time.RFC3339), "endsAt": start.Add(30 * time.Minute).Format(time.RFC3339)}
}

// day is a whole hour at least two days away, so no reminder is due now.
func day(offsetDays int, hour int) time.Time {
	d := time.Now().UTC().AddDate(0, 0, offsetDays)
	return time.Date(d.Year(), d.Month(), d.Day(), hour, 0, 0, 0, time.UTC)
}

// slots creates one slot per start for the doctor.
func slots(t *testing.T, env *apptest.Env, doctor string, starts ...time.Time) []string {
	t.Helper()
	in := make([]any, len(starts))
	for i, s := range starts {
		in[i] = slotAt(s)
	}
	var out struct{ CreateSlots []struct{ ID string } }
	env.Do(doctor, createSlotsOp, map[string]any{"in": in}).Decode(t, &out)
	ids := make([]string, len(out.CreateSlots))
	for i, s := range out.CreateSlots {
		ids[i] = s.ID
	}
	return ids
}

func book(t *testing.T, env *apptest.Env, patient, slot string) string {
	t.Helper()
	var out struct{ BookAppointment struct{ ID string } }
	env.Do(patient, bookOp, map[string]any{"slot": slot}).Decode(t, &out)
	return out.BookAppointment.ID
}

func do(t *testing.T, env *apptest.Env, token, op string, vars map[string]any) {
	t.Helper()
	var out map[string]any
	env.Do(token, op, vars).Decode(t, &out)
}

func viewerID(t *testing.T, env *apptest.Env, token string) string {
	t.Helper()
	var out struct{ Viewer struct{ ID string } }
	env.Do(token, viewerIDOp, nil).Decode(t, &out)
	return out.Viewer.ID
}

// bookings makes n requested bookings of one patient with one doctor:
// n notifications to the doctor.
func bookings(t *testing.T, env *apptest.Env, n int) (doctor, patient string) {
	t.Helper()
	doctor, _ = env.Doctor("Dra. Outbox", "Clínica Médica", -23.55, -46.63)
	patient, _, _ = env.Patient("Paciente Outbox")
	dropRegistrationMail(t, env)
	starts := make([]time.Time, n)
	for i := range starts {
		starts[i] = day(3, 0).Add(time.Duration(i) * time.Hour)
	}
	for _, s := range slots(t, env, doctor, starts...) {
		book(t, env, patient, s)
	}
	return doctor, patient
}

// dropRegistrationMail deletes the outbox rows of the registrations'
// links, which the helpers followed at once: these tests count the
// notifications of bookings.
func dropRegistrationMail(t *testing.T, env *apptest.Env) {
	t.Helper()
	if _, err := env.DB.Client.Notification.Delete().Where(notification.RegistrationIDNotNil()).Exec(sys()); err != nil {
		t.Fatal(err)
	}
}

func all(t *testing.T, env *apptest.Env) []*ent.Notification {
	t.Helper()
	ns, err := env.DB.Client.Notification.Query().Order(ent.Asc(notification.FieldID)).All(sys())
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func messageID(id int) string { return notify.MessageIDFor(id, "healthmed.test") }

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// eventually polls cond until it holds or fails the test.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{mu: make(chan struct{}, 1)} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.String()
}
