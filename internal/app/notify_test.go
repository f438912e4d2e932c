package app_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/config"
	"github.com/healthmed/healthmed/internal/notify/smtptest"
)

// The server's own notification worker, configured from the environment
// like production, e-mails a booking to the doctor at once (the commit
// wakes it) and stops when asked.
func TestServerWorkerMailsABookingAndStops(t *testing.T) {
	srv := smtptest.Start(t)
	env := apptest.New(t, apptest.WithConfig(func(c *config.Config) {
		c.Notify.SMTPHost, c.Notify.SMTPPort, c.Notify.SMTPTLS = srv.Host, srv.Port, "opportunistic"
		c.Notify.Poll = time.Minute // only the wake-up can make it quick
	}))
	stop := env.App.StartNotifications(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			stop()
		}
	})
	doc, _ := env.Doctor("Dra. Servidor", "Cardiology", -23.5, -46.6)
	pat, _, _ := env.Patient("Paciente Servidor")
	start := time.Now().UTC().Add(72 * time.Hour).Truncate(time.Hour)
	var slots struct{ CreateSlots []struct{ ID string } }
	env.Do(doc, `mutation($in: [SlotInput!]!) { createSlots(input: $in) { id } }`, map[string]any{"in": []any{map[string]any{
		"startsAt": start.Format(time.RFC3339), "endsAt": start.Add(30 * time.Minute).Format(time.RFC3339)}}}).Decode(t, &slots)
	var booked struct{ BookAppointment struct{ ID string } }
	env.Do(pat, `mutation($s: ID!) { bookAppointment(slotId: $s) { id } }`, map[string]any{"s": slots.CreateSlots[0].ID}).Decode(t, &booked)

	// The registrations' links may come first (or be skipped, followed
	// before the worker reached them).
	var booking smtptest.Message
	for n := 1; booking.Subject == ""; n++ {
		msgs := srv.WaitFor(t, n, 10*time.Second)
		if m := msgs[n-1]; !strings.Contains(m.Subject, "Confirme seu e-mail") {
			booking = m
		}
	}
	if booking.Subject != "Nova solicitação de teleconsulta" || !strings.HasPrefix(booking.To[0], "doctor") ||
		!strings.HasSuffix(booking.MessageID, "@healthmed.test>") {
		t.Fatalf("e-mail %+v", booking)
	}
	done := make(chan struct{})
	go func() { stop(); close(done) }()
	select {
	case <-done:
		stopped = true
	case <-time.After(5 * time.Second):
		t.Fatal("the worker did not stop")
	}
}
