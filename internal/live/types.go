package live

import (
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/event"
)

// The types below are the GraphQL types of the same names (gqlgen.yml
// binds them), so the API layer depends on the domain and not the reverse.

// AgendaEvent is one change on a doctor's agenda, as agendaUpdated pushes it.
type AgendaEvent struct {
	// Pass it as after to resume from here after a reconnect.
	ID          int              `json:"id"`
	Kind        event.Kind       `json:"kind"`
	At          time.Time        `json:"at"`
	Appointment *ent.Appointment `json:"appointment,omitempty"`
	// Null once the slot was deleted.
	Slot *ent.Slot `json:"slot,omitempty"`
	// SlotID outlives the slot, so that a client can evict a deleted one.
	SlotID *int `json:"slotId,omitempty"`
}
