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

// subscription is the operation every doctor's screen subscribes to:
// what a doctor's agenda screen would ask for.
const subscription = `subscription { agendaUpdated { id kind at slot { id startsAt endsAt } } }`

// patientSubscription is a signed-in patient's: every change to their
// own appointments (-mixed).
const patientSubscription = `subscription { appointmentUpdated { id status } }`

type workerFlags struct {
	servers     []string // host:port of each replica
	first       int      // global index of this worker's first connection
	conns       int
	src         string // local address to dial from
	concurrency int    // handshakes in flight
	deadline    time.Duration
	// patients of the conns are patients' sockets, spread among the
	// doctor's screens; their tokens come as the first line on stdin.
	patients int
}

// patientTokens is the first line a worker with patients reads.
type patientTokens struct {
	Tokens []string `json:"patient_tokens"`
}

// command is what the orchestrator sends.
type command struct {
	Cmd     string `json:"cmd"` // await, live, accepted, stop
	Slot    string `json:"slot,omitempty"`
	T0      int64  `json:"t0,omitempty"` // unix ns, just before the mutation was sent
	Timeout int64  `json:"timeout_ms,omitempty"`
}

// connectedReport answers the end of the connection phase.
type connectedReport struct {
	Acked      int      `json:"acked"`
	Patients   int      `json:"patients"` // of Acked, patients' sockets
	PerReplica []int    `json:"per_replica"`
	Failed     int      `json:"failed"`
	Errors     []string `json:"errors,omitempty"`
	FirstDial  int64    `json:"first_dial"` // unix ns
	LastAck    int64    `json:"last_ack"`   // unix ns
	ConnectUS  []int64  `json:"connect_us"` // dial to connection_ack, per acked connection
	UpgradeUS  []int64  `json:"upgrade_us"` // of ConnectUS, dial to the 101 answer
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
	patient bool
	gotAny  atomic.Bool
	closed  atomic.Bool
}

// receipt is when a patient's socket read that their appointment was
// accepted, and which replica it is on.
type receipt struct {
	At      int64 `json:"at"` // unix ns
	Replica int   `json:"replica"`
}

type worker struct {
	f       workerFlags
	token   string
	ptokens []string
	conns   []*wconn // nil where the connection failed

	mu       sync.Mutex
	recv     map[string][]int64 // slot id -> receipt unix ns per connection
	accepted map[string]receipt // appointment id -> first ACCEPTED seen
	errs     []string           // unexpected server messages, first few
	closed   atomic.Int64
	live     atomic.Int64 // screens that received an event
	plive    atomic.Int64 // patients' sockets that received an event
	stop     atomic.Bool
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
	w := &worker{f: f, token: token, conns: make([]*wconn, f.conns), recv: map[string][]int64{}, accepted: map[string]receipt{}}
	out := json.NewEncoder(os.Stdout)
	stdin := bufio.NewReaderSize(os.Stdin, 1<<16)
	if f.patients > 0 {
		// Thousands of tokens: too long for the environment, and the
		// command line is for everyone on the machine to read.
		line, err := stdin.ReadBytes('\n')
		var pt patientTokens
		if err == nil {
			err = json.Unmarshal(line, &pt)
		}
		if err != nil || len(pt.Tokens) != f.patients {
			return fmt.Errorf("patient tokens: want %d, %v", f.patients, err)
		}
		w.ptokens = pt.Tokens
	}

	// Commands arrive on stdin; EOF means the orchestrator is gone, and
	// the worker goes too.
	cmds := make(chan command)
	go func() {
		defer close(cmds)
		sc := bufio.NewScanner(stdin)
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
			if err := out.Encode(map[string]int64{"live": w.live.Load(), "plive": w.plive.Load(), "closed": w.closed.Load()}); err != nil {
				return err
			}
		case "accepted":
			w.mu.Lock()
			got := w.accepted
			w.accepted = map[string]receipt{}
			w.mu.Unlock()
			if err := out.Encode(map[string]any{"accepted": got}); err != nil {
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
	initFor := func(token string) []byte {
		b, _ := json.Marshal(map[string]any{"type": "connection_init",
			"payload": map[string]string{"authorization": "Bearer " + token}})
		return b
	}
	subFor := func(query string) []byte {
		b, _ := json.Marshal(map[string]any{"type": "subscribe", "id": "1",
			"payload": map[string]any{"query": query}})
		return b
	}
	initMsg, subMsg, patientSub := initFor(w.token), subFor(subscription), subFor(patientSubscription)

	rep := connectedReport{PerReplica: make([]int, len(w.f.servers)), ConnectUS: make([]int64, 0, w.f.conns),
		UpgradeUS: make([]int64, 0, w.f.conns)}
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
		p, patient := w.patientAt(i)
		hello, sub := initMsg, subMsg
		if patient {
			hello, sub = initFor(w.ptokens[p]), patientSub
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			c, upgraded, err := w.handshake(ctx, d, w.f.servers[replica], hello, sub)
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
			if patient {
				rep.Patients++
			}
			rep.PerReplica[replica]++
			rep.ConnectUS = append(rep.ConnectUS, end.Sub(start).Microseconds())
			rep.UpgradeUS = append(rep.UpgradeUS, upgraded.Sub(start).Microseconds())
			rep.LastAck = max(rep.LastAck, end.UnixNano())
			wc := &wconn{ws: c, replica: replica, patient: patient}
			w.conns[i] = wc
			go w.read(i, wc) // started under mu: conns[i] is set before any await
		}()
	}
	wg.Wait()
	return rep
}

// patientAt tells whether connection i is a patient's and which: every
// stride-th one, the stride odd so that consecutive patients alternate
// between the replicas like the screens do.
func (w *worker) patientAt(i int) (int, bool) {
	if w.f.patients == 0 {
		return 0, false
	}
	stride := w.f.conns / w.f.patients
	if stride%2 == 0 {
		stride--
	}
	if i%stride != 0 || i/stride >= w.f.patients {
		return 0, false
	}
	return i / stride, true
}

// handshake dials, authenticates, waits for connection_ack and subscribes;
// upgraded is when the server's 101 answer arrived.
func (w *worker) handshake(ctx context.Context, d *websocket.Dialer, server string, initMsg, subMsg []byte) (c *websocket.Conn, upgraded time.Time, err error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, res, err := d.DialContext(ctx, "ws://"+server+"/graphql", http.Header{})
	upgraded = time.Now()
	if err != nil {
		if res != nil {
			return nil, upgraded, fmt.Errorf("dial %s: %w (HTTP %d)", server, err, res.StatusCode)
		}
		return nil, upgraded, fmt.Errorf("dial %s: %w", server, err)
	}
	fail := func(err error) (*websocket.Conn, time.Time, error) {
		c.Close()
		return nil, upgraded, err
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
	return c, upgraded, nil
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
		case c.patient && bytes.Contains(data, nextPrefix):
			w.patientEvent(c, data, now)
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

var (
	appointmentKey = []byte(`"appointmentUpdated":{"id":"`)
	acceptedStatus = []byte(`"status":"ACCEPTED"`)
)

// patientEvent notes the first time a patient's socket reads that one of
// their appointments is accepted.
func (w *worker) patientEvent(c *wconn, data []byte, now int64) {
	if c.gotAny.CompareAndSwap(false, true) {
		w.plive.Add(1)
	}
	i := bytes.Index(data, appointmentKey)
	if i < 0 {
		w.noteErr("unexpected next: %.200s", data)
		return
	}
	rest := data[i+len(appointmentKey):]
	j := bytes.IndexByte(rest, '"')
	if j <= 0 || !bytes.Contains(rest, acceptedStatus) {
		return
	}
	id := string(rest[:j])
	w.mu.Lock()
	if _, seen := w.accepted[id]; !seen {
		w.accepted[id] = receipt{At: now, Replica: c.replica}
	}
	w.mu.Unlock()
}

// await waits until every open screen has received the slot's event,
// or the timeout passes, and reports the latencies.
func (w *worker) await(ctx context.Context, c command) eventReport {
	deadline := time.Now().Add(time.Duration(c.Timeout) * time.Millisecond)
	rep := eventReport{Slot: c.Slot, LatencyUS: make([][]int64, len(w.f.servers))}
	for {
		got, open := 0, 0
		w.mu.Lock()
		ts := w.recv[c.Slot]
		for i, wc := range w.conns {
			if wc == nil || wc.patient {
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
		if wc == nil || wc.patient {
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
