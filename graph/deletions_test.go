package graph_test

import (
	"testing"

	"github.com/healthmed/healthmed/internal/apptest"
)

// TestDeletionsNameWhatWent: what a delete removes, its answer names, so
// that a client's normalised cache can evict it; and the agenda's
// SLOT_DELETED event names the slot it no longer shows.
func TestDeletionsNameWhatWent(t *testing.T) {
	env := apptest.New(t)
	doc, _ := env.Doctor("Dr. Evicted", "Cardiology", -23.5, -46.6)
	slot := createSlot(t, env, doc, tomorrowAt(9), 50)
	w := env.Connect(t, apptest.TransportWS, doc)
	w.SubscribeLive("1", `subscription { agendaUpdated { kind slot { id } slotId } }`, nil)

	var del struct{ DeleteSlot string }
	env.Do(doc, deleteSlotOp, map[string]any{"id": slot}).Decode(t, &del)
	if del.DeleteSlot != slot {
		t.Fatalf("deleteSlot answered %q, want %q", del.DeleteSlot, slot)
	}
	var ev struct {
		AgendaUpdated struct {
			Kind   string
			Slot   *struct{ ID string }
			SlotID *string
		}
	}
	w.NextData("1", &ev)
	if e := ev.AgendaUpdated; e.Kind != "SLOT_DELETED" || e.Slot != nil || e.SlotID == nil || *e.SlotID != slot {
		t.Fatalf("event %+v, want SLOT_DELETED naming %s", e, slot)
	}

	// The insurance plan: its id, then nothing left to remove.
	pat, _, _ := env.Patient("Pia")
	var reg struct{ RegisterInsurancePlan struct{ ID string } }
	env.Do(pat, registerPlanOp, map[string]any{"in": map[string]any{"operator": "Unimed", "cardNumber": "8901 2345-6789.0123"}}).Decode(t, &reg)
	const removeOp = `mutation { removeInsurancePlan }`
	var rm struct{ RemoveInsurancePlan *string }
	env.Do(pat, removeOp, nil).Decode(t, &rm)
	if rm.RemoveInsurancePlan == nil || *rm.RemoveInsurancePlan != reg.RegisterInsurancePlan.ID {
		t.Fatalf("removeInsurancePlan answered %v, want %s", rm.RemoveInsurancePlan, reg.RegisterInsurancePlan.ID)
	}
	env.Do(pat, removeOp, nil).Decode(t, &rm)
	if rm.RemoveInsurancePlan != nil {
		t.Fatalf("a second removal answered %s", *rm.RemoveInsurancePlan)
	}
}
