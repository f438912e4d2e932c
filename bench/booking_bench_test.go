package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthmed/healthmed/bench/workload"
	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/viewer"
)

const (
	// bookers is how many patients book at once, each from its own
	// goroutine and with its own token.
	bookers = 64
	// contendedSlots is how many slots they fight over at any moment:
	// bookers/contendedSlots patients race for each slot.
	contendedSlots = 8
	perSlot        = bookers / contendedSlots
	slotLength     = 30 * time.Minute
	bookingDoctors = 8
)

// BenchmarkBookingUnderContention has 64 patients book through GraphQL at
// once, 8 of them racing for each slot, so about 8 slots are contended
// at any moment. Attempt i goes to slot i/8 and is made by patient i%64:
// the 8 racers for a slot are 8 different patients, and no patient ever
// tries the same slot twice or two slots at the same time (every slot
// has its own half hour), so the only possible refusal is SLOT_TAKEN.
// Exactly one booking per slot must succeed, or the benchmark fails.
//
// Doctors, patients' tokens and each run's fresh slots are made before
// the timer starts; one operation is one booking attempt, won or lost.
func BenchmarkBookingUnderContention(b *testing.B) {
	env := apptest.New(b, apptest.Unthrottled())
	sys := viewer.SystemContext(context.Background())
	for i := 0; i < bookingDoctors; i++ {
		env.Doctor(fmt.Sprintf("Dr. Busy %d", i), "Cardiology", workload.SaoPauloLat, workload.SaoPauloLng)
	}
	doctorIDs, err := env.DB.Client.Doctor.Query().IDs(sys)
	if err != nil || len(doctorIDs) != bookingDoctors {
		b.Fatalf("doctors: %v (%d)", err, len(doctorIDs))
	}
	tokens := make([]string, bookers)
	for i := range tokens {
		// Minted directly: argon2 registrations would dominate the setup.
		tokens[i] = env.PatientToken(b, fmt.Sprintf("Patient %d", i))
	}
	c := newClient(env.Server.URL, bookers)
	defer c.close()
	slots := &slotMaker{client: env.DB.Client, doctors: doctorIDs, base: startOfDay(time.Now().UTC().AddDate(0, 0, 2))}

	name := fmt.Sprintf("%dbookers-%dslots", bookers, contendedSlots)
	b.Run(name, func(b *testing.B) {
		nSlots := (b.N + perSlot - 1) / perSlot
		ids := slots.make(b, nSlots)
		payloads := make([][]byte, nSlots)
		for i, id := range ids {
			payloads[i] = body(workload.BookOp, map[string]any{"slot": strconv.Itoa(id)})
		}
		var (
			all, won, lost latencies
			wins           = make([]atomic.Int32, nSlots)
			taken          atomic.Int64
			next           atomic.Int64
			failures       atomic.Int64
			firstErr       sync.Once
			errText        string
		)
		b.SetParallelism(goroutinesPerProc(bookers))
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			var dAll, dWon, dLost []time.Duration
			for pb.Next() {
				i := int(next.Add(1) - 1)
				slot := i / perSlot
				start := time.Now()
				raw, err := c.post(tokens[i%bookers], payloads[slot])
				d := time.Since(start)
				dAll = append(dAll, d)
				outcome, err := bookingOutcome(raw, err)
				switch outcome {
				case "won":
					wins[slot].Add(1)
					dWon = append(dWon, d)
				case "taken":
					taken.Add(1)
					dLost = append(dLost, d)
				default:
					failures.Add(1)
					firstErr.Do(func() { errText = err.Error() })
				}
			}
			all.add(dAll)
			won.add(dWon)
			lost.add(dLost)
		})
		b.StopTimer()

		if n := failures.Load(); n > 0 {
			b.Fatalf("%d of %d booking attempts neither won nor got SLOT_TAKEN; first: %s", n, b.N, errText)
		}
		for s := range wins {
			if w := wins[s].Load(); w != 1 {
				b.Fatalf("slot %d (id %d): %d successful bookings, want exactly 1", s, ids[s], w)
			}
		}
		// The database agrees: one active appointment on each slot.
		active, err := env.DB.Client.Appointment.Query().
			Where(appointment.SlotIDIn(ids...), appointment.StatusIn(appointment.StatusREQUESTED, appointment.StatusACCEPTED)).
			Count(viewer.SystemContext(context.Background()))
		if err != nil || active != nSlots {
			b.Fatalf("active appointments on the %d slots: %d (err %v)", nSlots, active, err)
		}
		if want := int64(b.N - nSlots); taken.Load() != want {
			b.Fatalf("%d SLOT_TAKEN, want %d", taken.Load(), want)
		}

		p50, p99, ops := all.report(b)
		b.ReportMetric(float64(nSlots)/b.Elapsed().Seconds(), "bookings/s")
		wp50, wp99 := won.summary()
		lp50, lp99 := lost.summary()
		b.Logf("N=%d attempts on %d slots: %d booked, %d SLOT_TAKEN; p50 %.2f ms, p99 %.2f ms, %.0f attempts/s, %.0f bookings/s; "+
			"winners p50 %.2f p99 %.2f ms, SLOT_TAKEN p50 %.2f p99 %.2f ms",
			b.N, nSlots, nSlots, taken.Load(), ms(p50), ms(p99), ops, float64(nSlots)/b.Elapsed().Seconds(),
			ms(wp50), ms(wp99), ms(lp50), ms(lp99))
	})
}

// bookingOutcome classifies one response: "won", "taken", or "" with the
// reason in err.
func bookingOutcome(raw []byte, err error) (string, error) {
	if err != nil {
		return "", err
	}
	var res struct {
		Data struct {
			BookAppointment *struct{ ID, Status string }
		}
		Errors []gqlError
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return "", fmt.Errorf("response is not JSON: %s", raw)
	}
	switch {
	case len(res.Errors) == 0 && res.Data.BookAppointment != nil && res.Data.BookAppointment.Status == "REQUESTED":
		return "won", nil
	case len(res.Errors) == 1 && res.Errors[0].Extensions.Code == "CONFLICT" && res.Errors[0].Extensions.Reason == "SLOT_TAKEN":
		return "taken", nil
	}
	return "", fmt.Errorf("unexpected response: %s", raw)
}

// slotMaker creates fresh slots for each run, round-robin over the
// doctors, each in its own half hour after base, so no two slots any
// patient books can overlap.
type slotMaker struct {
	client  *ent.Client
	doctors []int
	base    time.Time
	next    int
}

func (m *slotMaker) make(b *testing.B, n int) []int {
	b.Helper()
	ctx := viewer.SystemContext(context.Background())
	ids := make([]int, 0, n)
	for len(ids) < n {
		builders := make([]*ent.SlotCreate, min(n-len(ids), 1000))
		for j := range builders {
			start := m.base.Add(time.Duration(m.next) * slotLength)
			builders[j] = m.client.Slot.Create().SetDoctorID(m.doctors[m.next%len(m.doctors)]).
				SetStartsAt(start).SetEndsAt(start.Add(slotLength))
			m.next++
		}
		created, err := m.client.Slot.CreateBulk(builders...).Save(ctx)
		if err != nil {
			b.Fatalf("create slots: %v", err)
		}
		for _, s := range created {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

func startOfDay(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
