package app

import (
	"context"
	"time"

	"github.com/healthmed/healthmed/internal/clock"
)

// runWaitlist hands on the waitlist holds that ran out, every
// HEALTHMED_WAITLIST_SWEEP on every replica (ExpireHolds is safe to run
// on several at once).
func (a *App) runWaitlist(ctx context.Context) {
	t := time.NewTicker(a.waitlistSweep)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := a.Waitlist.ExpireHolds(ctx, clock.UTC(a.Waitlist.Now))
		switch {
		case err != nil && ctx.Err() == nil:
			a.log.Error("hand on expired waitlist holds", "err", err.Error(), "done", n)
		case n > 0:
			a.log.Info("hand on expired waitlist holds", "done", n)
		}
	}
}
