//go:build !linux

package wsgorilla

// peekFunc is nil where the socket cannot be looked into without a read:
// gorilla then waits in its own read.
var peekFunc func(fd uintptr) bool
