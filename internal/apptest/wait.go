package apptest

import (
	"testing"
	"time"
)

// WaitFor polls cond until it holds, and fails the test when it still
// does not after 10 s: for what a server does a moment after an answer.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
