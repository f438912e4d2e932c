package billing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/event"
	"github.com/healthmed/healthmed/internal/viewer"
)

// Events is the agenda's change log (agenda.Events): completing an
// appointment through it writes the live event, the notifications and,
// through the clinic's hook, the invoice, exactly as a doctor's
// completion does.
type Events interface {
	Appointment(ctx context.Context, kind event.Kind, a *ent.Appointment) error
}

// AutoCompleter is the periodic job that marks COMPLETED the ACCEPTED
// appointments whose meeting ended more than After ago, issuing their
// invoices (marked issued by SYSTEM). Doctors usually complete their
// consultations themselves; this keeps billing from waiting on those who
// forget. A doctor whose patient did not show voids the invoice.
//
// Replicas may run it at once: each batch locks its rows with SKIP
// LOCKED, and the status is checked again under the lock, so every
// appointment is completed and invoiced once.
type AutoCompleter struct {
	Client *ent.Client
	Events Events
	After  time.Duration
	Batch  int
	Log    *slog.Logger
}

// CompleteOverdue completes every appointment overdue at now, in batches
// of one transaction each, and returns how many it completed.
func (j *AutoCompleter) CompleteOverdue(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for {
		n, err := j.batch(ctx, now.UTC().Add(-j.After))
		total += n
		if err != nil || n < j.batchSize() {
			return total, err
		}
	}
}

func (j *AutoCompleter) batchSize() int {
	if j.Batch > 0 {
		return j.Batch
	}
	return 100
}

func (j *AutoCompleter) batch(ctx context.Context, cutoff time.Time) (n int, err error) {
	sys := viewer.SystemContext(ctx)
	tx, err := j.Client.Tx(sys)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, tx.Rollback())
		}
	}()
	tctx := ent.NewContext(ent.NewTxContext(sys, tx), tx.Client())
	overdue, err := tx.Appointment.Query().Where(
		appointment.StatusEQ(appointment.StatusACCEPTED),
		// A meeting never ends before its appointment starts: this bound
		// lets the start index narrow the scan.
		appointment.StartsAtLT(cutoff),
		appointment.Or(
			appointment.MeetingEndsAtLT(cutoff),
			appointment.And(appointment.MeetingEndsAtIsNil(), appointment.EndsAtLT(cutoff)),
		),
	).Order(ent.Asc(appointment.FieldStartsAt), ent.Asc(appointment.FieldID)).
		Limit(j.batchSize()).ForUpdate(sql.WithLockAction(sql.SkipLocked)).All(tctx)
	if err != nil {
		return 0, err
	}
	for _, a := range overdue {
		done, err := a.Update().SetStatus(appointment.StatusCOMPLETED).Save(tctx)
		if err == nil {
			err = j.Events.Appointment(tctx, event.KindBOOKING_COMPLETED, done)
		}
		if err != nil {
			return 0, fmt.Errorf("complete appointment %d: %w", a.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	if len(overdue) > 0 && j.Log != nil {
		j.Log.Info("completed overdue appointments", "count", len(overdue))
	}
	return len(overdue), nil
}
