package wsgorilla

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// Close codes that standard clients reconnect on. graphql-ws (and Apollo
// and urql, which use it) gives up on 4400, 4401, 4500 and most 1xxx
// codes, and retries 4403, 1012 and the other non-fatal ones, calling its
// connectionParams again on every attempt; subscriptions-transport-ws
// (the legacy graphql-ws protocol) reconnects on any close when its
// reconnect option is on. Neither protocol's client resubscribes after a
// complete or an error message, so a socket that must end is closed with
// one of these and nothing else is written before it.
const (
	// CloseReauthenticate: the viewer's token expired or its sign-in
	// ended. graphql-transport-ws prescribes 4403 for a refused
	// connection_init, and a client answers it by connecting again with a
	// fresh token.
	CloseReauthenticate = 4403
	// CloseServiceRestart: this server is going away; reconnecting
	// reaches another replica.
	CloseServiceRestart = 1012
	// CloseTryAgainLater: the client did not keep up with its events;
	// reconnecting resumes where it stood.
	CloseTryAgainLater = 1013
)

// CloseInvalidMessage is graphql-transport-ws's code for a message the
// server cannot use; the legacy protocol gets 1002 instead (see
// conn.refuseMessage).
const CloseInvalidMessage = 4400

const graphqlTransportWS = "graphql-transport-ws"

// closeGrace is how long a closed socket waits for the peer's close frame
// before the connection is dropped: the close code has been delivered by
// then, and a peer that keeps talking past it is not listened to.
const closeGrace = 2 * time.Second

// socket is one websocket's handle in the context of its conversation,
// from Detached.Do to every operation gqlgen runs on it.
type socket struct {
	// cancel ends the conversation's context; closed calls it when the
	// connection closes, so whatever watches the socket through its
	// context is released with it.
	cancel   context.CancelFunc
	hijacked func()

	mu      sync.Mutex
	conn    *conn
	ended   bool
	onClose []func() // see OnClose
	closing atomic.Bool
}

type socketKey struct{}

func socketOf(ctx context.Context) *socket {
	s, _ := ctx.Value(socketKey{}).(*socket)
	return s
}

// closed runs once the connection is closed, or the conversation ended
// without one: the context ends, then what OnClose registered runs.
func (s *socket) closed() {
	s.cancel()
	s.mu.Lock()
	fs := s.onClose
	s.onClose, s.ended = nil, true
	s.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

// OnClose runs f once the socket whose conversation ctx belongs to has
// closed (at once if it already has), and reports false, without keeping
// f, when ctx belongs to no socket served by Detached. It does what
// context.AfterFunc on the conversation's context does, for a slice
// entry per watcher instead of a context node, a stop function and a
// map entry each: what a socket keeps for its life is multiplied by tens
// of thousands of idle subscribers.
func OnClose(ctx context.Context, f func()) bool {
	s := socketOf(ctx)
	if s == nil {
		return false
	}
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		f()
		return true
	}
	s.onClose = append(s.onClose, f)
	s.mu.Unlock()
	return true
}

// Served reports whether ctx belongs to a socket served by Detached.
func Served(ctx context.Context) bool { return socketOf(ctx) != nil }

// serve holds the conversation on the socket's own goroutine (Detached)
// and closes done when it is over. Its frame is the bottom of what an
// idle socket's reading goroutine keeps (see session.run).
func (s *socket) serve(cfg *transport.Websocket, w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, done chan struct{}) {
	defer close(done)
	defer s.closed()
	defer s.end()
	if ss := accept(cfg, w, r, exec); ss != nil {
		ss.run()
		ss.finish()
	}
}

// attach is called by Accept once the upgrade succeeded.
func (s *socket) attach(c *conn) {
	s.mu.Lock()
	s.conn = c
	s.mu.Unlock()
	s.hijacked()
}

func (s *socket) current() *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn
}

// end runs once the conversation is over. Not every way out of it
// closes the connection (a refusal leaves its close frame on the way and
// the connection open): what is still open is refused, the peer's answer
// awaited for a moment, then the connection dropped.
func (s *socket) end() {
	c := s.current()
	if c == nil {
		return
	}
	if c.delivered.Load() && !c.closed() {
		c.refuseMessage()
		c.linger(closeGrace)
	}
	_ = c.Close()
}

// CloseSocket ends the websocket whose conversation ctx belongs to: the
// close frame with code and reason goes out at once, and nothing is
// written after it (a complete or error message racing it is dropped), so
// that the client sees the close code alone. The connection is dropped
// when the peer answers, or after a short grace. It reports false when
// ctx belongs to no socket served by Detached.
func CloseSocket(ctx context.Context, code int, reason string) bool {
	s := socketOf(ctx)
	if s == nil {
		return false
	}
	s.mu.Lock()
	c := s.conn
	s.mu.Unlock()
	if c == nil {
		return false
	}
	s.closing.Store(true)
	_ = c.writeClose(code, reason, closeGrace)
	return true
}

// Closing reports whether CloseSocket was called on ctx's socket: what
// the peer sends after that is not acted on.
func Closing(ctx context.Context) bool {
	s := socketOf(ctx)
	return s != nil && s.closing.Load()
}
