package config

import (
	"log/slog"
	"time"
)

// Load bounds the GraphQL requests one replica works on at once. Past
// saturation every request admitted delays all the others; refusing the
// excess at once (RATE_LIMITED, 503 with Retry-After) keeps the answered
// ones fast, so a replica keeps its goodput instead of doing work for
// clients that have given up.
type Load struct {
	// MaxInFlight requests run at once (HEALTHMED_MAX_IN_FLIGHT).
	MaxInFlight int
	// MaxQueued more wait for a place, each at most QueueWait
	// (HEALTHMED_MAX_QUEUED, HEALTHMED_QUEUE_WAIT); the rest are refused.
	MaxQueued int
	QueueWait time.Duration
	// RetryAfter is what a refusal tells the client to wait.
	RetryAfter time.Duration
	// HeapFloorMiB is the heap the garbage collector lets grow before
	// it collects, however small the live heap (heapfloor;
	// HEALTHMED_HEAP_FLOOR_MIB, 0 for GOGC alone).
	HeapFloorMiB int
}

func loadFromEnv(get func(key, def string) string) (Load, []error) {
	var errs []error
	dur := positiveDuration(get, &errs)
	num := positiveInt(get, &errs)
	l := Load{
		MaxInFlight: num("HEALTHMED_MAX_IN_FLIGHT", "16"),
		MaxQueued:   num("HEALTHMED_MAX_QUEUED", "64"),
		QueueWait:   dur("HEALTHMED_QUEUE_WAIT", "100ms"),
		RetryAfter:  dur("HEALTHMED_RETRY_AFTER", "1s"),
	}
	l.HeapFloorMiB = nonNegativeInt(get, &errs)("HEALTHMED_HEAP_FLOOR_MIB", "64", "GOGC alone")
	return l, errs
}

// LogValue renders the load settings.
func (l Load) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int("max_in_flight", l.MaxInFlight),
		slog.Int("max_queued", l.MaxQueued),
		slog.String("queue_wait", l.QueueWait.String()),
		slog.String("retry_after", l.RetryAfter.String()),
		slog.Int("heap_floor_mib", l.HeapFloorMiB),
	)
}
