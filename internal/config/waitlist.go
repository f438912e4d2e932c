package config

import (
	"log/slog"
	"time"
)

// Waitlist is how long a freed slot is held for the first in line, and
// how often every replica hands on the holds that ran out.
type Waitlist struct {
	// Hold is HEALTHMED_WAITLIST_HOLD (default 15m).
	Hold time.Duration
	// Sweep is HEALTHMED_WAITLIST_SWEEP (default 30s): a hold runs at
	// most this much past its time before the next in line gets the slot.
	Sweep time.Duration
}

// LogValue renders the durations.
func (w Waitlist) LogValue() slog.Value {
	return slog.GroupValue(slog.String("hold", w.Hold.String()), slog.String("sweep", w.Sweep.String()))
}

func waitlistFromEnv(get func(key, def string) string) (Waitlist, []error) {
	var errs []error
	dur := positiveDuration(get, &errs)
	return Waitlist{
		Hold:  dur("HEALTHMED_WAITLIST_HOLD", "15m"),
		Sweep: dur("HEALTHMED_WAITLIST_SWEEP", "30s"),
	}, errs
}
