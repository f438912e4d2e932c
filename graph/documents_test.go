package graph_test

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
)

// fragmentExplosion is a document whose every fragment spreads the next
// one twice: n levels expand to 2^n fields from a few hundred bytes.
func fragmentExplosion(n int) string {
	var b strings.Builder
	b.WriteString("query { ...F0 }\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Query { viewer { __typename } }\n", n)
	return b.String()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestFragmentExplosionIsRefusedAtOnce: such a document is measured once
// per fragment and refused before anything walks its expansion.
func TestFragmentExplosionIsRefusedAtOnce(t *testing.T) {
	env := apptest.New(t)
	for _, n := range []int{22, 60} {
		q := fragmentExplosion(n)
		cpu, start := cpuTime(), time.Now()
		r := env.Do("", q, nil)
		took, used := time.Since(start), cpuTime()-cpu
		t.Logf("%d levels (%d bytes): refused in %v, %v of CPU", n, len(q), took, used)
		if r.Code() != "BAD_USER_INPUT" || r.Ext("reason") != "FIELD_LIMIT_EXCEEDED" {
			t.Fatalf("%d levels: code %q reason %q (%+v)", n, r.Code(), r.Ext("reason"), r.Errors)
		}
		if took > time.Second {
			t.Fatalf("%d levels took %v", n, took)
		}
	}
	// A document that spreads its fragments sparingly still runs (it
	// selects viewer 16 times, under the repeated-field bound of 30).
	if r := env.Do("", fragmentExplosion(4), nil); len(r.Errors) > 0 {
		t.Fatalf("16 fields refused: %+v", r.Errors)
	}
}
