package server

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// Drainer ends the websocket connections on shutdown: http.Server's
// Shutdown neither closes nor waits for hijacked connections.
type Drainer struct {
	mu     sync.Mutex
	next   int
	cancel map[int]context.CancelFunc
	closed bool
}

// NewDrainer returns an empty Drainer.
func NewDrainer() *Drainer { return &Drainer{cancel: map[int]context.CancelFunc{}} }

// track returns a context for one connection that Drain cancels; gqlgen
// then tells the client why and closes the socket.
func (d *Drainer) track(ctx context.Context) (context.Context, bool) {
	ctx, cancel := context.WithCancel(transport.AppendCloseReason(ctx, drainReason))
	ctx = drainingContext{Context: ctx, d: d}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		cancel()
		return ctx, false
	}
	id := d.next
	d.next++
	d.cancel[id] = cancel
	// AfterFunc, not a goroutine waiting on Done: an idle socket should
	// cost no goroutine here.
	context.AfterFunc(ctx, func() {
		d.mu.Lock()
		delete(d.cancel, id)
		d.mu.Unlock()
	})
	return ctx, true
}

// Drain refuses new connections and ends the open ones.
func (d *Drainer) Drain() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	for _, c := range d.cancel {
		c()
	}
}

// Open counts the open connections.
func (d *Drainer) Open() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.cancel)
}

const drainReason = "server shutting down"

// drainingContext gives gqlgen the drain's close reason only once the
// server is draining: a socket that ends for another reason (the client
// left, or sent a frame that is not JSON) must not be told the server is
// going away, or its client would wait for a restart that is not coming.
type drainingContext struct {
	context.Context
	d *Drainer
}

func (c drainingContext) Value(key any) any {
	v := c.Context.Value(key)
	if s, ok := v.(string); ok && s == drainReason {
		c.d.mu.Lock()
		defer c.d.mu.Unlock()
		if !c.d.closed {
			return nil
		}
	}
	return v
}
