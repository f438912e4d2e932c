// Package heapfloor keeps the garbage collector from running while the
// heap is small. At Go's default GOGC=100 a collection starts whenever
// the heap has doubled since the last one: a replica that answers
// searches holds a few MiB of live heap and allocates about 200 KiB per
// search, so it collected every few dozen searches and spent about a
// fifth of its CPU in the collector. Raising GOGC for good would also
// double the headroom of a replica holding 10,000 websockets, whose live
// heap is a hundred times larger. A floor gives the small heap room and
// leaves the large one as GOGC has it: after each collection the percent
// is set so that the next starts at the larger of the floor and what GOGC
// allows. GOMEMLIMIT still bounds the heap, floor or not.
package heapfloor

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"sync"
)

// runtimeMinimum is the runtime's smallest heap goal at GOGC=100; it
// scales with the percent, so a percent above floor/runtimeMinimum*100
// would set the goal past the floor even for an empty heap.
const runtimeMinimum = 4 << 20

// Start keeps the next collection's goal at floor bytes or more, until
// stop is called (the percent then goes back to GOGC's). It does nothing
// when floor is 0 or GOGC is off.
func Start(floor uint64) (stop func()) {
	base, ok := gogc(os.Getenv("GOGC"))
	if floor == 0 || !ok {
		return func() {}
	}
	t := &tuner{floor: floor, base: base, set: base}
	t.sample = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	// Tuned before the first finalizer can run, so the two never overlap.
	t.tune()
	t.arm()
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.stopped = true
		debug.SetGCPercent(base)
	}
}

// Percent is the GOGC percent whose goal over live bytes of live heap is
// floor, or base when base already reaches it.
func Percent(live, floor uint64, base int) int {
	if live >= floor {
		return base
	}
	top := floor * 100 / runtimeMinimum
	p := top
	if live > 0 {
		p = min((floor-live)*100/live, top)
	}
	return int(max(p, uint64(base)))
}

// gogc reads GOGC as the runtime does: unset is 100; "off" (or any
// negative) turns the collector off, and then there is nothing to tune.
func gogc(v string) (int, bool) {
	if v == "" {
		return 100, true
	}
	if v == "off" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 0
}

type tuner struct {
	floor  uint64
	base   int
	sample []metrics.Sample

	// mu orders a retune after a collection against stop, so that a
	// stopped tuner sets nothing after stop restored GOGC's percent.
	mu      sync.Mutex
	set     int
	stopped bool
}

// arm registers a finalizer on a fresh object: it runs after the next
// collection, retunes, and arms again.
func (t *tuner) arm() {
	sentinel := new([16]byte)
	runtime.SetFinalizer(sentinel, func(*[16]byte) {
		if t.tune() {
			t.arm()
		}
	})
}

// tune sets the percent for the live heap now; it reports false once the
// tuner is stopped.
func (t *tuner) tune() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	metrics.Read(t.sample)
	if t.sample[0].Value.Kind() != metrics.KindUint64 {
		return true
	}
	p := Percent(t.sample[0].Value.Uint64(), t.floor, t.base)
	// Only a real change is worth the runtime's lock.
	if d := p - t.set; d > t.set/8 || -d > t.set/8 {
		t.set = p
		debug.SetGCPercent(p)
	}
	return true
}
