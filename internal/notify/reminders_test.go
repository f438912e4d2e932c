package notify_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent/notification"
	"github.com/healthmed/healthmed/internal/notify"
	"github.com/healthmed/healthmed/internal/notify/smtptest"
)

func reminders(t *testing.T, w *notify.Worker, at time.Time) int {
	t.Helper()
	w.Now = func() time.Time { return at }
	n, err := w.ScheduleReminders(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func countKind(t *testing.T, w *notify.Worker, appointmentID int, k notification.Kind) int {
	t.Helper()
	n, err := w.Client.Notification.Query().
		Where(notification.AppointmentID(appointmentID), notification.KindEQ(k)).Count(sys())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Reminders go to both parties 24 hours and 1 hour before an accepted
// consultation, once each however often, and from however many replicas,
// the scheduler runs.
func TestRemindersAreEnqueuedOnceEvenWhenTheSchedulerRunsTwice(t *testing.T) {
	env := newEnv(t)
	doctor, _ := env.Doctor("Dra. Lembrete", "Clínica Médica", -23.55, -46.63)
	patient, _, _ := env.Patient("Paciente Lembrete")
	dropRegistrationMail(t, env)
	start := day(3, 13)
	ids := slots(t, env, doctor, start, start.Add(2*time.Hour))
	accepted := book(t, env, patient, ids[0])
	do(t, env, doctor, acceptOp, map[string]any{"id": accepted})
	requested := book(t, env, patient, ids[1]) // never accepted: never reminded
	a, r := atoi(t, accepted), atoi(t, requested)

	srv := smtptest.Start(t)
	w := newWorker(env, srv, nil)
	if n := reminders(t, w, start.Add(-25*time.Hour)); n != 0 {
		t.Fatalf("%d reminders 25 hours before", n)
	}
	if n := reminders(t, w, start.Add(-23*time.Hour)); n != 2 {
		t.Fatalf("%d reminders 23 hours before, want one for each party", n)
	}
	if n := reminders(t, w, start.Add(-23*time.Hour)); n != 0 {
		t.Fatalf("the second run enqueued %d more", n)
	}
	// Four replicas' schedulers at the same moment.
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			other := newWorker(env, srv, nil)
			other.Now = func() time.Time { return start.Add(-50 * time.Minute) }
			n, err := other.ScheduleReminders(context.Background())
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	if total != 2 {
		t.Fatalf("concurrent schedulers enqueued %d one-hour reminders, want 2", total)
	}
	if n := reminders(t, w, start.Add(-10*time.Minute)); n != 0 {
		t.Fatalf("%d more reminders 10 minutes before", n)
	}
	if n := reminders(t, w, start.Add(time.Minute)); n != 0 {
		t.Fatalf("%d reminders after the start", n)
	}
	for _, k := range []notification.Kind{notification.KindREMINDER_24H, notification.KindREMINDER_1H} {
		if got := countKind(t, w, a, k); got != 2 {
			t.Errorf("%s: %d rows, want 2", k, got)
		}
		if got := countKind(t, w, r, k); got != 0 {
			t.Errorf("%s for a consultation never accepted: %d", k, got)
		}
	}
	recipients, err := w.Client.Notification.Query().
		Where(notification.AppointmentID(a), notification.KindEQ(notification.KindREMINDER_1H)).All(sys())
	if err != nil {
		t.Fatal(err)
	}
	if (recipients[0].DoctorID == nil) == (recipients[1].DoctorID == nil) {
		t.Fatal("the two reminders are not one for each party")
	}
}

// A consultation accepted after a reminder's moment gets no such
// reminder (the acceptance, with the link, was just sent), and cancelling
// drops the reminders not yet sent.
func TestLateAcceptanceSkipsTheDayBeforeReminderAndCancellingDropsThem(t *testing.T) {
	env := newEnv(t)
	doctor, _ := env.Doctor("Dra. Tarde", "Clínica Médica", -23.55, -46.63)
	patient, _, _ := env.Patient("Paciente Tarde")
	dropRegistrationMail(t, env)
	soon := time.Now().UTC().Add(5 * time.Hour).Truncate(time.Minute)
	later := day(3, 13)
	ids := slots(t, env, doctor, soon, later)
	late := book(t, env, patient, ids[0])
	do(t, env, doctor, acceptOp, map[string]any{"id": late})
	early := book(t, env, patient, ids[1])
	do(t, env, doctor, acceptOp, map[string]any{"id": early})

	srv := smtptest.Start(t)
	w := newWorker(env, srv, nil)
	if n := reminders(t, w, soon.Add(-4*time.Hour)); n != 0 {
		t.Fatalf("%d reminders for a consultation accepted within the day", n)
	}
	if n := reminders(t, w, soon.Add(-30*time.Minute)); n != 2 {
		t.Fatalf("%d one-hour reminders, want 2", n)
	}
	if n := reminders(t, w, later.Add(-20*time.Hour)); n != 2 {
		t.Fatalf("%d day-before reminders, want 2", n)
	}
	do(t, env, patient, cancelOp, map[string]any{"id": early, "r": "não posso ir"})
	rows, err := w.Client.Notification.Query().Where(notification.AppointmentID(atoi(t, early)),
		notification.KindEQ(notification.KindREMINDER_24H)).All(sys())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range rows {
		if n.EmailStatus != notification.EmailStatusSKIPPED {
			t.Fatalf("a reminder of a cancelled consultation is %s", n.EmailStatus)
		}
	}
	if n := reminders(t, w, later.Add(-50*time.Minute)); n != 0 {
		t.Fatalf("%d reminders for a cancelled consultation", n)
	}
}
