package bench

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/bench/workload"
	"github.com/healthmed/healthmed/ent/patient"
	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/viewer"
)

// TestBookingStatements counts the statements one booking sends to
// PostgreSQL, transaction control included, for a patient with an
// insurance plan (so the coverage check is written too), and prints
// them. The event reader's own polling is left out.
func TestBookingStatements(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled())
	sys := viewer.SystemContext(context.Background())
	env.Doctor("Dr. Counted", "Cardiology", workload.SaoPauloLat, workload.SaoPauloLng)
	doctorID := env.DB.Client.Doctor.Query().OnlyIDX(sys)
	token := env.PatientToken(t, "Counted Patient")
	patientID := env.DB.Client.Patient.Query().Where(patient.Name("Counted Patient")).OnlyIDX(sys)
	env.DB.Client.InsurancePlan.Create().SetPatientID(patientID).SetOperator("Bench Saúde").
		SetCardSealed([]byte{0}).SetCardLast4("0000").ExecX(sys)

	const bookings = 10
	base := startOfDay(time.Now().UTC().AddDate(0, 0, 2))
	var stmts [][]string
	for i := range bookings {
		start := base.Add(time.Duration(i) * time.Hour)
		sl := env.DB.Client.Slot.Create().SetDoctorID(doctorID).SetStartsAt(start).SetEndsAt(start.Add(30 * time.Minute)).SaveX(sys)
		var r apptest.Response
		all := env.StatementsDuring("", func() {
			r = env.Do(token, workload.BookOp, map[string]any{"slot": strconv.Itoa(sl.ID)})
		})
		if len(r.Errors) > 0 {
			t.Fatalf("booking %d: %+v", i, r.Errors)
		}
		var mine []string
		for _, s := range all {
			if isEventPoll(s) {
				continue
			}
			mine = append(mine, s)
		}
		stmts = append(stmts, mine)
	}
	total := 0
	for _, s := range stmts {
		total += len(s)
	}
	// A guard, not a timing: each statement is a round trip and a parse
	// and plan in PostgreSQL, in the transaction that decides the slot.
	if avg := float64(total) / bookings; avg > maxBookingStatements {
		t.Errorf("%.1f statements per booking, more than %.0f", avg, maxBookingStatements)
	}
	t.Logf("%.1f statements per booking (transaction control included); the last booking's:\n%s",
		float64(total)/bookings, strings.Join(stmts[len(stmts)-1], "\n"))
}

// maxBookingStatements is what a booking of a patient with a plan
// needs: BEGIN, the slot with its doctor's price, the appointment, the
// coverage check, the event, the doctor's notification, COMMIT; the
// patient's sign-in is checked once a second at most.
const maxBookingStatements = 7.5

// isEventPoll tells the event reader's reads apart from the booking's.
func isEventPoll(s string) bool {
	return strings.Contains(s, `FROM "events"`) && !strings.Contains(s, "INSERT")
}
