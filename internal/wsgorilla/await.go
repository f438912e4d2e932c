package wsgorilla

import (
	"bufio"
	"net"
	"syscall"
)

// An idle socket's reading goroutine waits for the client's next message
// for as long as the socket lives, on a stack the runtime halves at a
// collection only while less than a quarter of it, minus 800 bytes, is in
// use: below 1.25 KiB deep it keeps 4 KiB, above it 8. gorilla's frame
// reader alone waits 1.2 KiB deep (net.Conn.Read under bufio under its
// frame parsing). awaitData waits for the client's bytes before gorilla
// is called, about 0.45 KiB deep.

// watchReads arranges for awaitData to wait on nc's descriptor when the
// platform lets it look without reading (see peekFunc); br is the reader
// gorilla reads nc through.
func (c *conn) watchReads(br *bufio.Reader, nc net.Conn) {
	sc, ok := nc.(syscall.Conn)
	if br == nil || !ok || peekFunc == nil {
		return
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return
	}
	c.br, c.raw = br, raw
}

// awaitData returns once gorilla has something to read: bytes buffered,
// bytes on the connection, its end, an error or a deadline. Whatever
// ended the wait, gorilla's own read then finds and reports.
func (c *conn) awaitData() {
	if c.raw == nil || c.br.Buffered() > 0 {
		return
	}
	_ = c.raw.Read(peekFunc)
}
