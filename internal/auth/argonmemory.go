package auth

import (
	"runtime"
	"runtime/metrics"
	"sync/atomic"
)

// A derivation's memory block (7 MiB) is garbage as soon as it returns,
// but the collector reclaims it on its own schedule, after the next
// derivation has taken 7 MiB more: a replica answering one password after
// another holds two blocks, not one, and a small replica's footprint
// doubles for nothing. So when the gate goes idle, a collection is started
// at once, in the background (the answer does not wait for it) and only
// while the live heap is small enough for a cycle to cost a small part of
// the derivation's 30 ms. On a replica with a large heap (thousands of
// sockets) the collector's own headroom dwarfs a block and a forced cycle
// would cost more than it saves, so its pacing is left alone.
const forcedCollectionMaxHeap = 64 << 20

var collecting atomic.Bool

var liveHeapSample = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}

func releaseDerivationMemory() {
	if !collecting.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer collecting.Store(false)
		s := make([]metrics.Sample, 1)
		copy(s, liveHeapSample)
		metrics.Read(s)
		if s[0].Value.Kind() == metrics.KindUint64 && s[0].Value.Uint64() <= forcedCollectionMaxHeap {
			runtime.GC()
		}
	}()
}

func init() { defaultGate.onIdle = releaseDerivationMemory }
