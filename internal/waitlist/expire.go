package waitlist

import (
	"context"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/waitlistoffer"
	"github.com/healthmed/healthmed/internal/viewer"
)

// expireBatch is how many holds one transaction hands on.
const expireBatch = 50

// ExpireHolds hands on every hold that ran out by now: it is EXPIRED and
// the slot, if still free, goes to the next in line. Any number of
// replicas may run it at once: each locks the holds it handles with SKIP
// LOCKED, and a holder booking at the last moment locks theirs too (the
// booking trigger marks it BOOKED), so a hold is handed on once or used,
// never both. A hold is never handed on late to anyone's harm: until this
// runs, the slot stays its holder's.
func (s *Service) ExpireHolds(ctx context.Context, now time.Time) (int, error) {
	ctx = viewer.SystemContext(ctx)
	total := 0
	for {
		n, err := s.expireBatch(ctx, now)
		total += n
		if err != nil || n < expireBatch {
			return total, err
		}
	}
}

func (s *Service) expireBatch(ctx context.Context, now time.Time) (int, error) {
	tx, err := s.Client.Tx(ctx)
	if err != nil {
		return 0, err
	}
	ctx = ent.NewTxContext(ctx, tx)
	due, err := tx.WaitlistOffer.Query().
		Where(waitlistoffer.StatusEQ(waitlistoffer.StatusHELD), waitlistoffer.ExpiresAtLTE(now)).
		Order(ent.Asc(waitlistoffer.FieldExpiresAt), ent.Asc(waitlistoffer.FieldID)).Limit(expireBatch).
		ForUpdate(sql.WithLockAction(sql.SkipLocked)).All(ctx)
	if err != nil {
		return 0, rollback(tx, err)
	}
	c := tx.Client()
	for _, o := range due {
		// The WaitlistOffer schema hands the slot to the next in line.
		if err := c.WaitlistOffer.UpdateOne(o).SetStatus(waitlistoffer.StatusEXPIRED).Exec(ctx); err != nil {
			return 0, rollback(tx, err)
		}
	}
	return len(due), tx.Commit()
}

func rollback(tx *ent.Tx, err error) error {
	_ = tx.Rollback()
	return err
}
