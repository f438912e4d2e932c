package agenda

import (
	"context"
	"errors"
	"fmt"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/internal/viewer"
)

// CompleteOverdue is the clinic job's part of the agenda: it completes
// the ACCEPTED appointments whose meeting ended more than
// AutoCompleteAfter before now, as the system, so their invoices are
// issued by SYSTEM. Doctors usually complete their consultations
// themselves; this keeps billing from waiting on those who forget. A
// doctor whose patient did not show voids the invoice. It returns how
// many it completed.
//
// Replicas may run it at once: each batch, one transaction, locks its
// rows with SKIP LOCKED, and the status is checked again under the lock,
// so every appointment is completed and invoiced once.
func (s *Service) CompleteOverdue(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for {
		n, err := s.completeBatch(ctx, now.UTC().Add(-s.AutoCompleteAfter))
		total += n
		if err != nil || n < completeBatch {
			return total, err
		}
	}
}

const completeBatch = 100

func (s *Service) completeBatch(ctx context.Context, cutoff time.Time) (n int, err error) {
	sys := viewer.SystemContext(ctx)
	tx, err := s.Client.Tx(sys)
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
		Limit(completeBatch).ForUpdate(sql.WithLockAction(sql.SkipLocked)).All(tctx)
	if err != nil {
		return 0, err
	}
	for _, a := range overdue {
		if _, err := settle(tctx, a, false); err != nil {
			return 0, fmt.Errorf("complete appointment %d: %w", a.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	if len(overdue) > 0 && s.Log != nil {
		s.Log.Info("completed overdue appointments", "count", len(overdue))
	}
	return len(overdue), nil
}
