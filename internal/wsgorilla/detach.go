package wsgorilla

import (
	"context"
	"net/http"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// Detached is the server's websocket transport: it speaks the GraphQL
// conversation itself (see protocol.go), configured by the embedded
// transport.Websocket, on a goroutine of its own, and lets net/http's
// connection goroutine end once the socket is hijacked; otherwise that
// goroutine would stay blocked under the full handler chain for the life
// of the socket: a deep stack (16 KiB here) and the request's parsing
// state, per idle subscriber. The detached goroutine starts shallow.
//
// It works with an Implementation from this package only, which reports
// the hijack. Do returns when the upgrade failed (the refusal is written
// on w by then) or the socket was hijacked (net/http is done with w).
type Detached struct {
	transport.Websocket
	// Keep, when set, builds the conversation's context from the
	// request's: the values it copies onto a fresh context are all the
	// conversation sees. Without it the conversation keeps the request's
	// whole chain of values, and with it net/http's contexts and every
	// middleware's layer, for the life of the socket.
	Keep func(request context.Context) context.Context
}

var _ graphql.Transport = Detached{}

// Do implements graphql.Transport.
func (t Detached) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	hijacked := make(chan struct{})
	var once sync.Once
	var own *http.Request
	// net/http cancels the request's context when the handler returns;
	// the conversation outlives that, so it keeps the values only. Its
	// own context ends with the socket (see socket), or on the way out
	// below when the upgrade failed.
	base := context.WithoutCancel(r.Context())
	if t.Keep != nil {
		base = t.Keep(r.Context())
	}
	ctx, cancel := context.WithCancel(base)
	s := &socket{cancel: cancel, hijacked: func() {
		once.Do(func() {
			// gqlgen keeps the request's headers for the life of the
			// socket, although nothing reads them past the upgrade;
			// and the request itself (its URL, its addresses) is held
			// by nothing but this closure from here on.
			own.Header = nil
			own = nil
			close(hijacked)
		})
	}}
	own = r.WithContext(context.WithValue(ctx, socketKey{}, s))
	done := make(chan struct{})
	go s.serve(&t.Websocket, w, own, exec, done)
	select {
	case <-hijacked:
	case <-done:
	}
}
