package wsgorilla

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
)

// maxCloseReason is what fits in a close frame: control frames carry at
// most 125 bytes and the status code takes two of them. gorilla refuses a
// longer frame outright, which would lose the close code as well.
const maxCloseReason = 123

type conn struct {
	ws           *websocket.Conn
	writeTimeout time.Duration

	// writeMu serialises data messages: gorilla supports one concurrent
	// writer, and gqlgen writes from the reader, every subscription and its
	// keep-alive goroutines. Control frames (close, ping) need no lock:
	// gorilla's WriteControl may be called concurrently with everything.
	writeMu sync.Mutex

	closeOnce sync.Once
	done      chan struct{} // closed by Close; stops the pinger
	onClose   func()        // ends the conversation's context (Detached)

	// The pinger, when Options.PingInterval is set. pingMu orders the
	// timer's creation before its first tick reads it.
	pingInterval time.Duration
	pingMu       sync.Mutex
	pingTimer    *time.Timer
	ponged       atomic.Bool  // a pong arrived since the last tick; set on the reading goroutine
	silent       atomic.Int32 // ticks in a row without a pong

	// delivered: the last NextReader handed gqlgen a message. When
	// gqlgen then gives up on the conversation, it gave up over what that
	// message said, not over a failed connection.
	delivered atomic.Bool

	// connError gives a connection_error's extensions (Options).
	connError func(message string) map[string]any

	// See awaitData: the read buffer gorilla reads through and the
	// connection's descriptor.
	br  *bufio.Reader
	raw syscall.RawConn
}

var (
	_ transport.WebsocketConn          = (*conn)(nil)
	_ transport.WebsocketReadLimiter   = (*conn)(nil)
	_ transport.WebsocketReadDeadliner = (*conn)(nil)
)

// NextReader maps the peer's orderly close to transport.ErrWebsocketClosed,
// which gqlgen treats as the end of the conversation rather than an error
// worth reporting. 1001 (going away) is what browsers send when a tab is
// closed or navigates, so it counts as orderly too.

func (c *conn) NextReader() (int, io.Reader, error) {
	c.awaitData()
	mt, r, err := c.ws.NextReader()
	c.delivered.Store(err == nil)
	if err != nil {
		if websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseNoStatusReceived, websocket.CloseGoingAway) {
			return mt, nil, transport.ErrWebsocketClosed
		}
		return mt, nil, err
	}
	return mt, r, nil
}

// WriteJSON marshals before touching the socket: gorilla's own WriteJSON
// streams into an open frame, so an encoding error would leave a truncated
// message on the wire.
//
// It is what gqlgen's transport writes through, and mends two of gqlgen's
// frames on the way (see codelessInvalidJSON, withConnectionErrorCode);
// Detached's conversation writes its own frames whole (send).
func (c *conn) WriteJSON(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if codelessInvalidJSON(data) {
		c.refuseMessage()
		return errUnusableOperation
	}
	if c.connError != nil {
		data = withConnectionErrorCode(data, c.connError)
	}
	return c.write(data)
}

// send writes v as one text message.
func (c *conn) send(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.write(data)
}

// write sends data as one text message.
func (c *conn) write(data []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.armWriteDeadline()
	return c.wrote(c.ws.WriteMessage(websocket.TextMessage, data))
}

// writeResult sends a plain result's frame (writeResultFrame) straight
// into gorilla's write buffer: no frame is put together on the heap for
// each of a fan-out's sockets.
func (c *conn) writeResult(id, typ string, data []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.armWriteDeadline()
	w, err := c.ws.NextWriter(websocket.TextMessage)
	if err != nil {
		return c.wrote(err)
	}
	err = writeResultFrame(w.(frameWriter), id, typ, data)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return c.wrote(err)
}

// armWriteDeadline bounds the next write: a peer that stops reading
// fills its TCP window and would block it, and every writer queued behind
// writeMu, forever. Called with writeMu held.
func (c *conn) armWriteDeadline() {
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.writeTimeout))
}

// wrote closes the socket after a failed write and returns err.
func (c *conn) wrote(err error) error {
	if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
		// gorilla's write errors are permanent, but gqlgen only reports
		// them and keeps its subscriptions running. Closing the socket fails
		// the pending read, which makes gqlgen tear the connection down and
		// cancel the resolvers feeding it.
		_ = c.Close()
	}
	return err
}

// WriteClose sends a close frame with gqlgen's code (4400, 4403, ...) and
// reason. gqlgen normally calls Close right after; the timer only makes sure
// the socket is released on the paths where it does not.
func (c *conn) WriteClose(code int, reason string) error {
	return c.writeClose(code, reason, c.writeTimeout)
}

// writeClose sends the close frame and drops the connection after grace
// at the latest. Once the frame is out, gorilla refuses every further
// write, ours and gqlgen's alike.
func (c *conn) writeClose(code int, reason string, grace time.Duration) error {
	msg := websocket.FormatCloseMessage(code, truncateUTF8(reason, maxCloseReason))
	// A control frame may come between the frames of a message being
	// written, so it takes no lock; a stalled peer holds it up for the
	// grace at most.
	err := c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(min(grace, c.writeTimeout)))
	time.AfterFunc(grace, func() { _ = c.Close() })
	if errors.Is(err, websocket.ErrCloseSent) {
		return nil // gorilla already sent one, e.g. 1009 for an oversized message
	}
	return err
}

// refuseMessage closes the socket over a message gqlgen could not use.
// graphql-transport-ws prescribes 4400 for an invalid message, and its
// clients do not reconnect on it, rightly: they would only send the same
// again. The legacy protocol names no code; 1002 is the websocket's own
// word for a protocol violation.
func (c *conn) refuseMessage() {
	code := websocket.CloseProtocolError
	if c.ws.Subprotocol() == graphqlTransportWS {
		code = CloseInvalidMessage
	}
	_ = c.writeClose(code, "invalid message", closeGrace)
}

// linger reads and discards what the peer still sends, up to its answer
// to our close frame or the grace, before the connection is dropped:
// closing a TCP connection with unread data resets it, and a reset may
// destroy the close frame before the peer has read it. Only for when
// nothing else reads the socket any more.
func (c *conn) linger(grace time.Duration) {
	_ = c.ws.SetReadDeadline(time.Now().Add(grace))
	for {
		_, r, err := c.ws.NextReader()
		if err != nil {
			return
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			return
		}
	}
}

func (c *conn) closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Close drops the network connection without a handshake; WriteClose is the
// polite part. It is idempotent because gqlgen, the pinger, a failed write
// and the WriteClose timer may all get here.
func (c *conn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.done)
		c.pingMu.Lock()
		if c.pingTimer != nil {
			c.pingTimer.Stop()
		}
		c.pingMu.Unlock()
		err = c.ws.Close()
		if c.onClose != nil {
			c.onClose()
		}
	})
	return err
}

func (c *conn) Subprotocol() string { return c.ws.Subprotocol() }

// SetReadLimit is how transport.Websocket.PayloadReadLimit takes effect:
// gorilla checks the declared frame length before buffering the payload,
// answers 1009 (message too big) and fails the read.
func (c *conn) SetReadLimit(limit int64) { c.ws.SetReadLimit(limit) }

// SetReadDeadline is how gqlgen's PingPongInterval takes effect: it arms a
// deadline when it pings and clears it when the pong message arrives, so a
// silent peer fails the pending read and the connection is torn down. The
// deadline lives on the net.Conn, so setting it from gqlgen's ping
// goroutine while another goroutine reads is safe.
func (c *conn) SetReadDeadline(t time.Time) error { return c.ws.SetReadDeadline(t) }

// startPings implements Options.PingInterval with websocket ping frames,
// which every browser answers without any application code. It never
// touches the read deadline, which belongs to gqlgen (see SetReadDeadline);
// a silent peer is dropped by closing the socket instead.
//
// The pinger is a timer, not a goroutine: an idle socket then costs no
// stack, which matters with tens of thousands of subscribers per process.
func (c *conn) startPings(interval time.Duration) {
	// Counting intervals rather than comparing timestamps gives every ping
	// at least one full interval to be answered, whatever the timer jitter.
	c.ponged.Store(true) // the handshake just proved the peer alive
	// The pong handler runs inside NextReader, on gqlgen's reading
	// goroutine; it must be installed before that goroutine starts.
	c.ws.SetPongHandler(func(string) error {
		c.ponged.Store(true)
		return nil
	})
	c.pingInterval = interval
	c.pingMu.Lock()
	c.pingTimer = time.AfterFunc(interval, c.pingTick)
	c.pingMu.Unlock()
}

// pingTick runs on the timer's own goroutine. The timer is re-armed only
// at its end, so ticks never overlap.
func (c *conn) pingTick() {
	select {
	case <-c.done:
		return
	default:
	}
	if c.ponged.Swap(false) {
		c.silent.Store(0)
	} else if c.silent.Add(1) >= 2 {
		_ = c.Close() // gqlgen's pending read fails and it tears down
		return
	}
	err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.writeTimeout))
	if errors.Is(err, websocket.ErrCloseSent) {
		return // closing already; gqlgen will Close
	}
	if err != nil {
		_ = c.Close()
		return
	}
	c.pingMu.Lock()
	c.pingTimer.Reset(c.pingInterval)
	c.pingMu.Unlock()
}

// truncateUTF8 cuts s to at most n bytes without splitting a rune, because
// a close reason must be valid UTF-8.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
