package server

import (
	"context"
	"sync"
	"time"

	"github.com/healthmed/healthmed/internal/wsgorilla"
)

// Drainer ends the websocket connections on shutdown: http.Server's
// Shutdown neither closes nor waits for hijacked connections. Each socket
// is closed with wsgorilla.CloseServiceRestart, never by completing its
// subscriptions: clients reconnect on that code (to another replica) and
// resubscribe, whereas a complete is the end of a subscription for them.
type Drainer struct {
	mu     sync.Mutex
	next   int
	open   map[int]func()
	closed bool
	// Wait bounds how long Drain waits for the sockets' close handshakes.
	Wait time.Duration
}

// NewDrainer returns an empty Drainer.
func NewDrainer() *Drainer { return &Drainer{open: map[int]func(){}, Wait: 3 * time.Second} }

// track registers a connection until its context ends, which happens when
// the socket closes (wsgorilla.Detached).
func (d *Drainer) track(ctx context.Context) (context.Context, bool) {
	// A Detached socket is closed with its code; anything else (a socket
	// of another transport) is cancelled, and gqlgen closes it with 1000.
	closeIt := func() { wsgorilla.CloseSocket(ctx, wsgorilla.CloseServiceRestart, "server restarting") }
	detached := wsgorilla.Served(ctx)
	if !detached {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		closeIt = cancel
	}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		if !detached {
			closeIt()
		}
		return ctx, false
	}
	id := d.next
	d.next++
	d.open[id] = closeIt
	d.mu.Unlock()
	forget := func() {
		d.mu.Lock()
		delete(d.open, id)
		d.mu.Unlock()
	}
	// Neither way costs a goroutine waiting on Done; a Detached socket's
	// costs a slice entry instead of a context node (see OnClose).
	if detached {
		wsgorilla.OnClose(ctx, forget)
	} else {
		context.AfterFunc(ctx, forget)
	}
	return ctx, true
}

// drainWorkers close sockets side by side: a peer that stopped reading
// holds its close frame up for a moment, and must not hold up the rest.
const drainWorkers = 16

// Drain refuses new connections, closes the open ones and waits, up to
// Wait, for them to be gone.
func (d *Drainer) Drain() {
	d.mu.Lock()
	d.closed = true
	closers := make([]func(), 0, len(d.open))
	for _, c := range d.open {
		closers = append(closers, c)
	}
	d.mu.Unlock()
	work := make(chan func())
	var wg sync.WaitGroup
	for range min(drainWorkers, len(closers)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				c()
			}
		}()
	}
	for _, c := range closers {
		work <- c
	}
	close(work)
	wg.Wait()
	for deadline := time.Now().Add(d.Wait); d.Open() > 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
}

// Open counts the open connections.
func (d *Drainer) Open() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.open)
}
