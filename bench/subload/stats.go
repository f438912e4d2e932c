package main

import (
	"fmt"
	"slices"
	"time"
)

// dist summarises a sample of durations.
type dist struct {
	N                  int
	P50, P95, P99, Max time.Duration
}

func summarize(us []int64) dist {
	if len(us) == 0 {
		return dist{}
	}
	s := slices.Clone(us)
	slices.Sort(s)
	at := func(q float64) time.Duration {
		// nearest rank: the smallest value with at least q of the sample
		// at or below it
		i := int(q*float64(len(s))+0.999999) - 1
		i = max(0, min(i, len(s)-1))
		return time.Duration(s[i]) * time.Microsecond
	}
	return dist{N: len(s), P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: time.Duration(s[len(s)-1]) * time.Microsecond}
}

func (d dist) String() string {
	if d.N == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50 %s  p99 %s  max %s  (n=%d)", ms(d.P50), ms(d.P99), ms(d.Max), d.N)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }
