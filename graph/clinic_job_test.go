package graph_test

import (
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/config"
)

// TestTheClinicJobKeepsTheAppsClock: the periodic job judges what is
// overdue by the app's clock, as every service does. On the app's clock
// the consultation ended a day and more ago; on the machine's it has not
// begun, so a job reading the machine's clock would leave it ACCEPTED.
func TestTheClinicJobKeepsTheAppsClock(t *testing.T) {
	env, clock := newClinicEnv(t, apptest.WithConfig(func(c *config.Config) { c.Clinic.JobInterval = 20 * time.Millisecond }))
	doc, _ := env.Doctor("Dr. Relógio", "Dermatology", -23.5, -46.6)
	pat, _, _ := env.Patient("Paula")
	id := heldAppointment(t, env, clock, doc, pat, time.Hour)
	clock.Advance(30 * time.Hour)
	apptest.WaitFor(t, "the job to complete the overdue consultation", func() bool {
		var out struct{ Node struct{ Status string } }
		env.Do(pat, `query($id: ID!) { node(id: $id) { ... on Appointment { status } } }`, map[string]any{"id": id}).Decode(t, &out)
		return out.Node.Status == "COMPLETED"
	})
}
