package heapfloor

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		live, floor uint64
		base, want  int
	}{
		{live: 4 * mib, floor: 64 * mib, base: 100, want: 1500},
		{live: 2 * mib, floor: 64 * mib, base: 100, want: 1600},
		{live: 32 * mib, floor: 64 * mib, base: 100, want: 100},
		{live: 20 * mib, floor: 64 * mib, base: 100, want: 220},
		{live: 200 * mib, floor: 64 * mib, base: 100, want: 100},
		{live: 200 * mib, floor: 64 * mib, base: 50, want: 50},
		{live: 20 * mib, floor: 64 * mib, base: 400, want: 400},
		{live: 1024, floor: 64 * mib, base: 100, want: 1600},
		{live: 0, floor: 64 * mib, base: 100, want: 1600},
		{live: 0, floor: 2 * mib, base: 100, want: 100},
	} {
		if got := Percent(c.live, c.floor, c.base); got != c.want {
			t.Errorf("Percent(%d, %d, %d) = %d, want %d", c.live, c.floor, c.base, got, c.want)
		}
	}
}

func TestGOGC(t *testing.T) {
	for _, c := range []struct {
		v    string
		want int
		ok   bool
	}{{"", 100, true}, {"200", 200, true}, {"off", 0, false}, {"-1", -1, false}, {"x", 0, false}} {
		if got, ok := gogc(c.v); ok != c.ok || (ok && got != c.want) {
			t.Errorf("gogc(%q) = %d, %v", c.v, got, ok)
		}
	}
}

// TestStartRaisesThePercentForASmallHeap: after a collection the percent
// gives the small heap of the test its floor, and stop puts GOGC back.
func TestStartRaisesThePercentForASmallHeap(t *testing.T) {
	t.Setenv("GOGC", "")
	stop := Start(256 << 20)
	runtime.GC()
	runtime.GC() // the finalizer of the first has run by the second
	got := debug.SetGCPercent(100)
	debug.SetGCPercent(got)
	stop()
	if got <= 100 {
		t.Fatalf("percent %d with a floor far above the live heap", got)
	}
	if after := debug.SetGCPercent(100); after != 100 {
		t.Fatalf("after stop: %d, want GOGC's 100", after)
	}
}

func TestStartDoesNothingWhenOff(t *testing.T) {
	t.Setenv("GOGC", "off")
	before := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(before)
	stop := Start(256 << 20)
	defer stop()
	runtime.GC()
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Fatalf("percent %d with GOGC=off", got)
	}
}
