package wsgorilla

import (
	"syscall"
	"unsafe"
)

// peekFunc tells the poller whether a byte can be read from fd, without
// taking it: false (wait for readability, then look again) only while
// nothing is there. Data, the peer's end and any error end the wait.
var peekFunc = func(fd uintptr) bool {
	var b [1]byte
	_, _, errno := syscall.Syscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), 1,
		syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	return errno != syscall.EAGAIN
}
