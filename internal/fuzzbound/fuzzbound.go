// Package fuzzbound holds fuzz targets to the bound every request a
// stranger sends must keep: answered or refused within 5 ms of CPU and
// 10 MiB of memory.
package fuzzbound

import (
	"flag"
	"runtime"
	"sync"
	"testing"
	"time"
)

const (
	// MaxAlloc is what one input may allocate: exact, since allocation
	// does not depend on the machine's load.
	MaxAlloc = 10 << 20
	// cpuBound is one input's CPU time in a plain build.
	cpuBound = 5 * time.Millisecond
)

// MaxCPU is one input's CPU time in this build. The race detector slows
// code down five to tenfold, and the coverage instrumentation that
// -fuzz compiles in about twice more, hence the slack there.
func MaxCPU() time.Duration {
	return cpuBound * raceSlack * fuzzSlack()
}

var fuzzSlack = sync.OnceValue(func() time.Duration {
	if f := flag.Lookup("test.fuzz"); f != nil && f.Value.String() != "" {
		return 3
	}
	return 1
})

// Within runs f, which must do its work on the calling goroutine, and
// fails t if it allocated more than MaxAlloc or used more than MaxCPU.
// The CPU is the thread's own where the system reports it, so that a
// loaded machine does not count against f; elsewhere it is wall time, an
// upper bound.
func Within(t testing.TB, what string, f func()) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	check(t, what, 1, threadCPU, f)
}

// WithinProcess is Within for work spread over goroutines (a server
// answering a socket): it counts the whole process's CPU and allocation
// against units requests' bound, so it is meaningful only while nothing
// else runs in the test binary, as when fuzz seeds and inputs run.
func WithinProcess(t testing.TB, what string, units int, f func()) {
	t.Helper()
	check(t, what, units, processCPU, f)
}

func check(t testing.TB, what string, units int, clock func() time.Duration, f func()) {
	t.Helper()
	// A collection of what earlier inputs left runs now, not during f:
	// its mark workers would count as f's CPU in the process's clock.
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0 := clock()
	f()
	cpu := clock() - cpu0
	runtime.ReadMemStats(&after)
	if alloc, bound := after.TotalAlloc-before.TotalAlloc, uint64(units)*MaxAlloc; alloc > bound {
		t.Fatalf("%s allocated %.1f MiB, the bound is %d MiB", what, float64(alloc)/(1<<20), bound>>20)
	}
	if bound := time.Duration(units) * MaxCPU(); cpu > bound {
		t.Fatalf("%s used %v of CPU, the bound is %v", what, cpu, bound)
	}
}
