package main

// The client process: opens its share of the subscriptions and records
// when each one receives each event. It talks to the orchestrator with
// one JSON object per line: commands on stdin, answers on stdout.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// subscription is the operation every client subscribes to: what a
// doctor's agenda screen would ask for.
const subscription = `subscription { agendaUpdated { id kind at slot { id startsAt endsAt } } }`

type workerFlags struct {
	servers     []string // host:port of each replica
	first       int      // global index of this worker's first connection
	conns       int
	src         string // local address to dial from
	concurrency int    // handshakes in flight
	deadline    time.Duration
}

// command is what the orchestrator sends.
type command struct {
	Cmd     string `json:"cmd"` // await, live, stop
	Slot    string `json:"slot,omitempty"`
	T0      int64  `json:"t0,omitempty"` // unix ns, just before the mutation was sent
	Timeout int64  `json:"timeout_ms,omitempty"`
}

// connectedReport answers the end of the connection phase.
type connectedReport struct {
	Acked      int      `json:"acked"`
	PerReplica []int    `json:"per_replica"`
	Failed     int      `json:"failed"`
	Errors     []string `json:"errors,omitempty"`
	FirstDial  int64    `json:"first_dial"` // unix ns
	LastAck    int64    `json:"last_ack"`   // unix ns
	ConnectUS  []int64  `json:"connect_us"` // dial to connection_ack, per acked connection
}

// eventReport answers await.
type eventReport struct {
	Slot string `json:"slot"`
	// LatencyUS per replica index: receipt time minus T0.
	LatencyUS [][]int64 `json:"latency_us"`
	Missing   int       `json:"missing"`
	Closed    int       `json:"closed"`
	Live      int       `json:"live"`
	Errors    []string  `json:"errors,omitempty"`
}

type wconn struct {
	ws      *websocket.Conn
	replica int
	gotAny  atomic.Bool
	closed  atomic.Bool
}

type worker struct {
	f     workerFlags
	token string
	conns []*wconn // nil where the connection failed

	mu     sync.Mutex
	recv   map[string][]int64 // slot id -> receipt unix ns per connection
	errs   []string           // unexpected server messages, first few
	closed atomic.Int64
	live   atomic.Int64
	stop   atomic.Bool
}

func (w *worker) noteErr(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.errs) < 5 {
		w.errs = append(w.errs, fmt.Sprintf(format, args...))
	}
}

func runWorker(f workerFlags, token string) error {
	ctx, cancel := context.WithTimeout(context.Background(), f.deadline)
	defer cancel()
	w := &worker{f: f, token: token, conns: make([]*wconn, f.conns), recv: map[string][]int64{}}
	out := json.NewEncoder(os.Stdout)

	// Commands arrive on stdin; EOF means the orchestrator is gone, and
	// the worker goes too.
	cmds := make(chan command)
	go func() {
		defer close(cmds)
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			var c command
			if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
				fmt.Fprintf(os.Stderr, "subload worker: bad command: %v\n", err)
				continue
			}
			select {
			case cmds <- c:
			case <-ctx.Done():
				return
			}
		}
	}()

	rep := w.connectAll(ctx)
	if err := out.Encode(rep); err != nil {
		return err
	}
	defer w.closeAll()
	for {
		var c command
		var ok bool
		select {
		case <-ctx.Done():
			return errors.New("worker deadline reached")
		case c, ok = <-cmds:
		}
		if !ok {
			return nil
		}
		switch c.Cmd {
		case "stop":
			return nil
		case "live":
			if err := out.Encode(map[string]int64{"live": w.live.Load(), "closed": w.closed.Load()}); err != nil {
				return err
			}
		case "await":
			if err := out.Encode(w.await(ctx, c)); err != nil {
				return err
			}
		default:
			fmt.Fprintf(os.Stderr, "subload worker: unknown command %q\n", c.Cmd)
		}
	}
}

func (w *worker) connectAll(ctx context.Context) connectedReport {
	src, err := net.ResolveTCPAddr("tcp", net.JoinHostPort(w.f.src, "0"))
	if err != nil {
		return connectedReport{Failed: w.f.conns, Errors: []string{err.Error()}}
	}
	nd := &net.Dialer{LocalAddr: src, Timeout: 10 * time.Second}
	d := &websocket.Dialer{
		NetDialContext:   nd.DialContext,
		HandshakeTimeout: 20 * time.Second,
		Subprotocols:     []string{"graphql-transport-ws"},
		// The client holds thousands of sockets too; small buffers keep
		// the generator's own memory out of the way.
		ReadBufferSize:  1024,
		WriteBufferSize: 1024,
		WriteBufferPool: &sync.Pool{},
	}
	initMsg, _ := json.Marshal(map[string]any{"type": "connection_init",
		"payload": map[string]string{"authorization": "Bearer " + w.token}})
	subMsg, _ := json.Marshal(map[string]any{"type": "subscribe", "id": "1",
		"payload": map[string]any{"query": subscription}})

	rep := connectedReport{PerReplica: make([]int, len(w.f.servers)), ConnectUS: make([]int64, 0, w.f.conns)}
	var mu sync.Mutex
	sem := make(chan struct{}, w.f.concurrency)
	var wg sync.WaitGroup
	for i := range w.f.conns {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			mu.Lock()
			rep.Failed += w.f.conns - i
			mu.Unlock()
			wg.Wait()
			return rep
		}
		replica := (w.f.first + i) % len(w.f.servers)
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			c, err := w.handshake(ctx, d, w.f.servers[replica], initMsg, subMsg)
			end := time.Now()
			<-sem
			mu.Lock()
			defer mu.Unlock()
			if rep.FirstDial == 0 || start.UnixNano() < rep.FirstDial {
				rep.FirstDial = start.UnixNano()
			}
			if err != nil {
				rep.Failed++
				if len(rep.Errors) < 5 {
					rep.Errors = append(rep.Errors, err.Error())
				}
				return
			}
			rep.Acked++
			rep.PerReplica[replica]++
			rep.ConnectUS = append(rep.ConnectUS, end.Sub(start).Microseconds())
			rep.LastAck = max(rep.LastAck, end.UnixNano())
			wc := &wconn{ws: c, replica: replica}
			w.conns[i] = wc
			go w.read(i, wc) // started under mu: conns[i] is set before any await
		}()
	}
	wg.Wait()
	return rep
}

// handshake dials, authenticates, waits for connection_ack and subscribes.
func (w *worker) handshake(ctx context.Context, d *websocket.Dialer, server string, initMsg, subMsg []byte) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, res, err := d.DialContext(ctx, "ws://"+server+"/graphql", http.Header{})
	if err != nil {
		if res != nil {
			return nil, fmt.Errorf("dial %s: %w (HTTP %d)", server, err, res.StatusCode)
		}
		return nil, fmt.Errorf("dial %s: %w", server, err)
	}
	fail := func(err error) (*websocket.Conn, error) {
		c.Close()
		return nil, err
	}
	if err := c.WriteMessage(websocket.TextMessage, initMsg); err != nil {
		return fail(err)
	}
	dl, _ := ctx.Deadline()
	_ = c.SetReadDeadline(dl)
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			return fail(fmt.Errorf("waiting for connection_ack: %w", err))
		}
		var m struct {
			Type    string          `json:"type"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal(data, &m); err != nil {
			return fail(err)
		}
		if m.Type == "connection_ack" {
			break
		}
		if m.Type == "ping" {
			if err := c.WriteMessage(websocket.TextMessage, []byte(`{"type":"pong"}`)); err != nil {
				return fail(err)
			}
			continue
		}
		return fail(fmt.Errorf("want connection_ack, got %s %s", m.Type, m.Payload))
	}
	_ = c.SetReadDeadline(time.Time{})
	if err := c.WriteMessage(websocket.TextMessage, subMsg); err != nil {
		return fail(err)
	}
	return c, nil
}

var (
	nextPrefix = []byte(`"type":"next"`)
	pingMsg    = []byte(`"type":"ping"`)
)

var slotKey = []byte(`"slot":{"id":"`)

// slotOf finds the slot id in a next message without decoding all of it:
// the client shares the cores with the servers, so it does as little per
// message as it can.
func slotOf(data []byte) (string, bool) {
	i := bytes.Index(data, slotKey)
	if i < 0 {
		return "", false
	}
	rest := data[i+len(slotKey):]
	j := bytes.IndexByte(rest, '"')
	if j <= 0 {
		return "", false
	}
	return string(rest[:j]), true
}

// read runs for the life of a connection, the only goroutine that writes
// to it after the handshake (pongs).
func (w *worker) read(i int, c *wconn) {
	defer func() {
		if c.closed.CompareAndSwap(false, true) && !w.stop.Load() {
			w.closed.Add(1)
		}
	}()
	for {
		_, data, err := c.ws.ReadMessage()
		now := time.Now().UnixNano()
		if err != nil {
			if !w.stop.Load() {
				w.noteErr("connection %d closed: %v", w.f.first+i, err)
			}
			return
		}
		switch {
		case bytes.Contains(data, nextPrefix):
			slot, ok := slotOf(data)
			if !ok {
				w.noteErr("unexpected next: %.200s", data)
				continue
			}
			if c.gotAny.CompareAndSwap(false, true) {
				w.live.Add(1)
			}
			w.mu.Lock()
			ts := w.recv[slot]
			if ts == nil {
				ts = make([]int64, len(w.conns))
				w.recv[slot] = ts
			}
			if ts[i] == 0 {
				ts[i] = now
			}
			w.mu.Unlock()
		case bytes.Contains(data, pingMsg):
			if err := c.ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"pong"}`)); err != nil {
				return
			}
		case bytes.Contains(data, []byte(`"type":"pong"`)), bytes.Contains(data, []byte(`"type":"ka"`)):
		default:
			w.noteErr("connection %d: unexpected message %.200s", w.f.first+i, data)
		}
	}
}

// await waits until every open connection has received the slot's event,
// or the timeout passes, and reports the latencies.
func (w *worker) await(ctx context.Context, c command) eventReport {
	deadline := time.Now().Add(time.Duration(c.Timeout) * time.Millisecond)
	rep := eventReport{Slot: c.Slot, LatencyUS: make([][]int64, len(w.f.servers))}
	for {
		got, open := 0, 0
		w.mu.Lock()
		ts := w.recv[c.Slot]
		for i, wc := range w.conns {
			if wc == nil {
				continue
			}
			if ts != nil && ts[i] != 0 {
				got++
			} else if !wc.closed.Load() {
				open++
			}
		}
		w.mu.Unlock()
		if open == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	ts := w.recv[c.Slot]
	for i, wc := range w.conns {
		if wc == nil {
			continue
		}
		if ts == nil || ts[i] == 0 {
			rep.Missing++
			continue
		}
		rep.LatencyUS[wc.replica] = append(rep.LatencyUS[wc.replica], (ts[i]-c.T0)/1000)
	}
	delete(w.recv, c.Slot)
	rep.Closed = int(w.closed.Load())
	rep.Live = int(w.live.Load())
	rep.Errors, w.errs = w.errs, nil
	return rep
}

// closeAll drops every connection with a reset rather than a FIN, so the
// client's ports do not sit in TIME_WAIT and a following run can reuse
// them.
func (w *worker) closeAll() {
	w.stop.Store(true)
	for _, c := range w.conns {
		if c == nil {
			continue
		}
		if tc, ok := c.ws.NetConn().(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		c.ws.Close()
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
