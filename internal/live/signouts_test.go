package live

import (
	"context"
	"testing"
)

// Watches are forgotten when their socket ends, and nothing is asked of the
// database while no sign-in holds a subscription.
func TestSignoutWatchesAreForgotten(t *testing.T) {
	w := NewSignouts(nil, nil) // a query would panic on the nil database
	stop1 := w.Watch("s1", func() {})
	stop2 := w.Watch("s1", func() {})
	stop3 := w.Watch("s2", func() {})
	stop4 := w.WatchPatient(7, func() {})
	if len(w.feeds) != 2 || len(w.feeds["s1"]) != 2 {
		t.Fatalf("watched %v", w.feeds)
	}
	stop1()
	stop1() // twice is harmless
	stop2()
	stop3()
	stop4()
	if len(w.feeds) != 0 || len(w.patients) != 0 {
		t.Fatalf("watches left: %v %v", w.feeds, w.patients)
	}
	if err := w.check(context.Background()); err != nil {
		t.Fatal(err)
	}
}
