// Package reaction is what the reactions declared on the Ent schema (the
// Hooks of ent/schema) need from the running server beyond the
// transaction they run in: whom to wake once it commits, who asks the
// insurance operators, who keeps the record's access log, and the clock.
//
// It imports nothing of Ent, so the generated client can carry it (the
// Reactions dependency in entc.go): every mutation of every client built
// with ent.Reactions reaches it, whoever the writer is. A client built
// without it still writes every consequence of a change; only the
// wake-ups are left to the readers' polling, and coverage checks are
// settled as if no operator were configured.
package reaction

import (
	"context"
	"time"
)

// Deps is filled in once, when the server is built, before any request.
type Deps struct {
	// Live wakes this replica's reader of the events table; the other
	// replicas hear the NOTIFY it then sends, or poll.
	Live Waker
	// Outbox wakes this replica's notification worker; the other
	// replicas' workers poll.
	Outbox Waker
	// Coverage asks the operators about the coverage of new bookings.
	Coverage Coverage
	// Records logs doctors' views of record files.
	Records RecordViews
	// AppointmentsRead are told the ids of the appointments each query
	// read, so that what a response then asks of every row of a list
	// (its invoice, its coverage check) is read in one statement.
	AppointmentsRead Readers
	// SlotsRead are told the ids of the slots each query read, so that
	// a list's Slot.free is read in one statement.
	SlotsRead Readers
	// Now is the clock of invoices and coverage checks; nil is the wall
	// clock.
	Now func() time.Time
	// WaitlistHold is how long a freed slot is held for the first in its
	// doctor's waitlist; 0 is DefaultWaitlistHold.
	WaitlistHold time.Duration
}

// DefaultWaitlistHold is the hold of a freed slot when none is configured.
const DefaultWaitlistHold = 15 * time.Minute

// Hold is WaitlistHold, or its default.
func (d *Deps) Hold() time.Duration {
	if d == nil || d.WaitlistHold <= 0 {
		return DefaultWaitlistHold
	}
	return d.WaitlistHold
}

// Waker is told that rows it reads have been committed.
type Waker interface{ Wake() }

// Coverage asks insurance operators whether a booking is covered.
type Coverage interface {
	// Unasked says why a new check is to be settled at once, without
	// asking (no operator configured, or known to be down), or "" when
	// the operator is to be asked.
	Unasked() string
	// Start asks the operator about an unsettled check, in the
	// background: the check's booking has committed.
	Start(checkID int)
}

// RecordViews keeps the record's access log.
type RecordViews interface {
	// Viewed logs, when the viewer in ctx is a doctor, their view of the
	// files' metadata.
	Viewed(ctx context.Context, fileIDs []int) error
}

// RecordsViewed is Records.Viewed, if there is one.
func (d *Deps) RecordsViewed(ctx context.Context, fileIDs []int) error {
	if d == nil || d.Records == nil {
		return nil
	}
	return d.Records.Viewed(ctx, fileIDs)
}

// Readers are told the ids of the rows each query of one entity read.
type Readers []func(ctx context.Context, ids []int)

// Tell tells each reader of ids.
func (r Readers) Tell(ctx context.Context, ids []int) {
	for _, read := range r {
		read(ctx, ids)
	}
}

// ReadAppointments tells AppointmentsRead, if any, of ids.
func (d *Deps) ReadAppointments(ctx context.Context, ids []int) {
	if d != nil {
		d.AppointmentsRead.Tell(ctx, ids)
	}
}

// ReadSlots tells SlotsRead, if any, of ids.
func (d *Deps) ReadSlots(ctx context.Context, ids []int) {
	if d != nil {
		d.SlotsRead.Tell(ctx, ids)
	}
}

// WakeLive wakes the live event reader, if there is one.
func (d *Deps) WakeLive() {
	if d != nil && d.Live != nil {
		d.Live.Wake()
	}
}

// WakeOutbox wakes the notification worker, if there is one.
func (d *Deps) WakeOutbox() {
	if d != nil && d.Outbox != nil {
		d.Outbox.Wake()
	}
}

// CoverageUnasked is Coverage.Unasked, or why nothing is asked without
// a Coverage.
func (d *Deps) CoverageUnasked() string {
	if d == nil || d.Coverage == nil {
		return "no coverage API is configured"
	}
	return d.Coverage.Unasked()
}

// StartCoverage is Coverage.Start, if there is one.
func (d *Deps) StartCoverage(checkID int) {
	if d != nil && d.Coverage != nil {
		d.Coverage.Start(checkID)
	}
}

// NowUTC is the clock's time in UTC.
func (d *Deps) NowUTC() time.Time {
	if d == nil || d.Now == nil {
		return time.Now().UTC()
	}
	return d.Now().UTC()
}
