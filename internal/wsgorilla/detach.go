package wsgorilla

import (
	"context"
	"net/http"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// Detached serves gqlgen's websocket transport on a goroutine of its own
// and lets net/http's connection goroutine end once the socket is
// hijacked. gqlgen runs a whole websocket conversation inside Do, so
// without this the goroutine net/http started for the request stays
// blocked under the full handler chain for the life of the socket: a
// deep stack (16 KiB here) and the request's parsing state, per idle
// subscriber. The detached goroutine starts shallow.
//
// It works with an Implementation from this package only, which reports
// the hijack. Do returns when the upgrade failed (gqlgen has answered on
// w by then) or the socket was hijacked (net/http is done with w).
type Detached struct {
	transport.Websocket
}

var _ graphql.Transport = Detached{}

type hijackKey struct{}

// Do implements graphql.Transport.
func (t Detached) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	hijacked := make(chan struct{})
	var once sync.Once
	var own *http.Request
	notify := func() {
		once.Do(func() {
			// gqlgen keeps the request's headers for the life of the
			// socket, although nothing reads them past the upgrade.
			own.Header = nil
			close(hijacked)
		})
	}
	// net/http cancels the request's context when the handler returns;
	// the conversation outlives that, so it keeps the values only. Ending
	// it is the job of the socket's own close and the server's Drainer.
	ctx := context.WithValue(context.WithoutCancel(r.Context()), hijackKey{}, notify)
	own = r.WithContext(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t.Websocket.Do(w, own, exec)
	}()
	select {
	case <-hijacked:
	case <-done:
	}
}

// reportHijack tells Detached.Do that net/http no longer owns the
// connection.
func reportHijack(ctx context.Context) {
	if f, ok := ctx.Value(hijackKey{}).(func()); ok {
		f()
	}
}
