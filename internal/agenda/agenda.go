// Package agenda is the doctors' calendar and the patients' bookings: slots,
// weekly availability, and the appointment status machine. The database's
// constraints make the invariants hold under any concurrency; this package
// turns their violations into the contract's errors. What else a booking
// or a move of the status machine does (the live event, the
// notifications, the coverage check, the invoice) is declared on the
// Appointment schema (ent/schema/appointment.go), so it happens whoever
// writes the change.
package agenda

import (
	"context"
	"log/slog"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/internal/clock"
	"github.com/healthmed/healthmed/internal/meeting"
	"github.com/healthmed/healthmed/internal/txn"
)

const (
	MaxSlotLength   = 4 * time.Hour
	MinSlotLength   = 10 * time.Minute
	MaxSlotsPerCall = 200
	MaxReasonLength = 500
	// MaxRange bounds a read of a doctor's agenda.
	MaxRange = 92 * 24 * time.Hour
	// DefaultHorizonMonths is how far ahead a slot may start when the
	// service is not told otherwise.
	DefaultHorizonMonths = 12
)

// Service holds the agenda's dependencies.
type Service struct {
	Client   *ent.Client
	Meetings meeting.Provider
	Log      *slog.Logger
	// HorizonMonths is how many months ahead a slot may start; 0 is
	// DefaultHorizonMonths.
	HorizonMonths int
	// AutoCompleteAfter is how long after its meeting ended an accepted
	// appointment is completed by CompleteOverdue.
	AutoCompleteAfter time.Duration
	// Now is the clock; tests move it.
	Now func() time.Time
	// PublicURL is where clients reach this server (the calendar links).
	PublicURL string
}

func (s *Service) now() time.Time { return clock.UTC(s.Now) }

// horizon is the latest a slot may start, seen from now.
func (s *Service) horizon(now time.Time) time.Time { return now.AddDate(0, s.horizonMonths(), 0) }

func (s *Service) horizonMonths() int {
	if s.HorizonMonths <= 0 {
		return DefaultHorizonMonths
	}
	return s.HorizonMonths
}

// db returns the transaction of the current mutation, or the client for
// reads.
func (s *Service) db(ctx context.Context) *ent.Client { return txn.Client(ctx, s.Client) }

// GenericPlanMutations are the mutations whose transactions may run the
// generic plans of their statements, planned once per connection rather
// than for each call's values (db.GenericPlans): a booking's statements
// and triggers read and write by key, so their values never change the
// plan, and planning them was about two fifths of PostgreSQL's CPU per
// booking. bench's TestBookingLoad fails if one of them reads a whole
// table.
var GenericPlanMutations = map[string]bool{"bookAppointment": true}
