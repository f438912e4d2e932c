package graph_test

import (
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
)

// A doctor's agenda reads whether its slots are taken in one statement,
// not one per slot. The loader learns the listed slots when they are
// read, so the count holds however late each slot's field runs.
func TestAgendaReadsSlotsFreeInOneStatement(t *testing.T) {
	env := apptest.New(t)
	doc, _ := env.Doctor("Dr. Agenda Batch", "Cardiology", -23.5, -46.6)
	pat, _, _ := env.Patient("Pat")
	var ids []string
	for i := range 6 {
		ids = append(ids, createSlot(t, env, doc, tomorrowAt(8).Add(time.Duration(i)*time.Hour), 30))
	}
	book(t, env, pat, ids[2])
	var out struct {
		Viewer struct {
			Slots []struct {
				ID   string
				Free bool
			}
		}
	}
	sqls := env.StatementsDuring("appointments", func() {
		env.Do(doc, `{ viewer { ... on Doctor { slots { id free } } } }`, nil).Decode(t, &out)
	})
	if len(out.Viewer.Slots) != 6 {
		t.Fatalf("%d slots listed, want 6", len(out.Viewer.Slots))
	}
	for _, s := range out.Viewer.Slots {
		if s.Free != (s.ID != ids[2]) {
			t.Fatalf("slot %s free=%v; booked was %s", s.ID, s.Free, ids[2])
		}
	}
	if len(sqls) != 1 {
		t.Fatalf("%d statements on appointments for 6 slots' free, want 1:\n%v", len(sqls), sqls)
	}
}
