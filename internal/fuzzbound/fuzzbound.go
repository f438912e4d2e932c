// Package fuzzbound holds fuzz targets to the bound every request a
// stranger sends must keep: answered or refused within 5 ms of CPU and
// 10 MiB of memory.
package fuzzbound

import (
	"runtime"
	"testing"
	"time"
)

const (
	// MaxAlloc is what one input may allocate: exact, since allocation
	// does not depend on the machine's load.
	MaxAlloc = 10 << 20
	// MaxCPU is one input's CPU time. The race detector slows code down
	// five to tenfold, hence the slack there.
	MaxCPU = 5 * time.Millisecond * raceSlack
)

// Within runs f, which must do its work on the calling goroutine, and
// fails t if it allocated more than MaxAlloc or used more than MaxCPU.
// The CPU is the thread's own where the system reports it, so that a
// loaded machine does not count against f; elsewhere it is wall time, an
// upper bound.
func Within(t testing.TB, what string, f func()) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0 := threadCPU()
	f()
	cpu := threadCPU() - cpu0
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > MaxAlloc {
		t.Fatalf("%s allocated %.1f MiB, the bound is %d MiB", what, float64(alloc)/(1<<20), MaxAlloc>>20)
	}
	if cpu > MaxCPU {
		t.Fatalf("%s used %v of CPU, the bound is %v", what, cpu, MaxCPU)
	}
}
