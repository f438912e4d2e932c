package wsgorilla

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql/handler/testserver"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
)

const (
	transportWS = "graphql-transport-ws"
	legacyWS    = "graphql-ws"

	// guard only stops a broken test from hanging; no assertion depends on
	// how fast anything happens.
	guard = 10 * time.Second
)

// recorder collects what gqlgen reports through ErrorFunc and CloseFunc;
// both run on server goroutines that may outlive the test body.
type recorder struct {
	mu     sync.Mutex
	errs   []error
	closed chan int
}

func newRecorder() *recorder { return &recorder{closed: make(chan int, 1)} }

func (r *recorder) install(ws *transport.Websocket) {
	ws.ErrorFunc = func(_ context.Context, err error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.errs = append(r.errs, err)
	}
	ws.CloseFunc = func(_ context.Context, code int) {
		select {
		case r.closed <- code:
		default:
		}
	}
}

func (r *recorder) errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

func (r *recorder) waitClosed(t *testing.T) int {
	t.Helper()
	select {
	case code := <-r.closed:
		return code
	case <-time.After(guard):
		t.Fatal("server never tore the connection down")
		return 0
	}
}

func startServer(t *testing.T, opts Options, ws transport.Websocket) (*testserver.TestServer, string) {
	t.Helper()
	impl, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ws.Implementation = impl
	h := testserver.New()
	h.AddTransport(ws)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, "ws" + strings.TrimPrefix(srv.URL, "http")
}

func dial(t *testing.T, url, subprotocol, origin string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	hdr := http.Header{}
	if subprotocol != "" {
		hdr.Set("Sec-WebSocket-Protocol", subprotocol)
	}
	if origin != "" {
		hdr.Set("Origin", origin)
	}
	c, resp, err := websocket.DefaultDialer.Dial(url, hdr)
	if err != nil {
		return nil, resp, err
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetReadDeadline(time.Now().Add(guard))
	return c, resp, nil
}

func mustDial(t *testing.T, url, subprotocol, origin string) *websocket.Conn {
	t.Helper()
	c, _, err := dial(t, url, subprotocol, origin)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return c
}

func send(t *testing.T, c *websocket.Conn, m message) {
	t.Helper()
	if err := c.WriteJSON(m); err != nil {
		t.Fatalf("write %s: %v", m.Type, err)
	}
}

// read returns the next message, skipping graphql-ws keep-alives.
func read(t *testing.T, c *websocket.Conn) message {
	t.Helper()
	for {
		var m message
		if err := c.ReadJSON(&m); err != nil {
			t.Fatalf("read: %v", err)
		}
		if m.Type != "ka" {
			return m
		}
	}
}

func expect(t *testing.T, c *websocket.Conn, typ string) message {
	t.Helper()
	m := read(t, c)
	if m.Type != typ {
		t.Fatalf("got message %q (%s), want %q", m.Type, m.Payload, typ)
	}
	return m
}

// readUntilClosed reads until the connection fails, returning the messages
// seen and the final error.
func readUntilClosed(c *websocket.Conn) ([]message, error) {
	var seen []message
	for {
		var m message
		if err := c.ReadJSON(&m); err != nil {
			return seen, err
		}
		seen = append(seen, m)
	}
}

func handshake(t *testing.T, c *websocket.Conn) {
	t.Helper()
	send(t, c, message{Type: "connection_init"})
	expect(t, c, "connection_ack")
}

func TestSubscriptionRoundTrip(t *testing.T) {
	cases := []struct {
		name, offer, negotiated      string
		subscribe, data, unsubscribe string
	}{
		{"graphql-transport-ws", transportWS, transportWS, "subscribe", "next", "complete"},
		{"graphql-ws", legacyWS, legacyWS, "start", "data", "stop"},
		// No sub-protocol offered: gqlgen falls back to graphql-ws.
		{"no sub-protocol", "", "", "start", "data", "stop"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder()
			ws := transport.Websocket{
				InitFunc: func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
					if p.Authorization() != "Bearer good" {
						return ctx, nil, errors.New("missing token")
					}
					return ctx, &transport.InitPayload{"hello": "ok"}, nil
				},
			}
			rec.install(&ws)
			h, url := startServer(t, Options{}, ws)
			c := mustDial(t, url, tc.offer, "")
			if got := c.Subprotocol(); got != tc.negotiated {
				t.Fatalf("negotiated %q, want %q", got, tc.negotiated)
			}

			send(t, c, message{Type: "connection_init", Payload: json.RawMessage(`{"Authorization":"Bearer good"}`)})
			ack := expect(t, c, "connection_ack")
			if string(ack.Payload) != `{"hello":"ok"}` {
				t.Fatalf("ack payload %s", ack.Payload)
			}

			send(t, c, message{Type: tc.subscribe, ID: "1", Payload: json.RawMessage(`{"query":"subscription { name }"}`)})
			for range 2 {
				h.SendNextSubscriptionMessage()
				m := expect(t, c, tc.data)
				if m.ID != "1" || string(m.Payload) != `{"data":{"name":"test"}}` {
					t.Fatalf("data message: id %q payload %s", m.ID, m.Payload)
				}
			}
			h.SendCompleteSubscriptionMessage()
			if m := expect(t, c, "complete"); m.ID != "1" {
				t.Fatalf("complete for id %q", m.ID)
			}

			// An orderly close by the client ends the connection on the server
			// without being reported as an error.
			err := c.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"), time.Now().Add(guard))
			if err != nil {
				t.Fatal(err)
			}
			rec.waitClosed(t)
			if errs := rec.errors(); len(errs) > 0 {
				t.Fatalf("server reported errors: %v", errs)
			}
		})
	}
}

func TestInitFuncErrorClosesWithCode(t *testing.T) {
	longReason := strings.Repeat("é", 100) // 200 bytes: more than a close frame holds
	for _, tc := range []struct {
		name, subprotocol string
		reason, wantText  string
	}{
		{"graphql-transport-ws", transportWS, "forbidden", "forbidden"},
		{"graphql-ws", legacyWS, "", "terminated"},
		{"long reason", transportWS, longReason, strings.Repeat("é", 61)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := transport.Websocket{
				InitFunc: func(ctx context.Context, _ transport.InitPayload) (context.Context, *transport.InitPayload, error) {
					ctx = transport.WithWebsocketCloseCode(ctx, 4403)
					if tc.reason != "" {
						ctx = transport.AppendCloseReason(ctx, tc.reason)
					}
					return ctx, nil, errors.New("invalid token")
				},
			}
			_, url := startServer(t, Options{}, ws)
			c := mustDial(t, url, tc.subprotocol, "")
			send(t, c, message{Type: "connection_init"})

			seen, err := readUntilClosed(c)
			var ce *websocket.CloseError
			if !errors.As(err, &ce) {
				t.Fatalf("want a close frame, got %v", err)
			}
			if ce.Code != 4403 || ce.Text != tc.wantText {
				t.Fatalf("close %d %q, want 4403 %q", ce.Code, ce.Text, tc.wantText)
			}
			if !utf8.ValidString(ce.Text) {
				t.Fatalf("close reason is not UTF-8: %q", ce.Text)
			}
			// graphql-ws announces the failure in a message first;
			// graphql-transport-ws only has the close code.
			if tc.subprotocol == legacyWS {
				if len(seen) != 1 || seen[0].Type != "connection_error" ||
					!strings.Contains(string(seen[0].Payload), "invalid token") {
					t.Fatalf("messages before close: %+v", seen)
				}
			} else if len(seen) != 0 {
				t.Fatalf("messages before close: %+v", seen)
			}
		})
	}
}

func TestOriginAllowlist(t *testing.T) {
	_, url := startServer(t, Options{AllowedOrigins: []string{"https://App.Example.org", "http://localhost:5173/"}}, transport.Websocket{})

	for _, origin := range []string{
		"https://evil.example",
		"http://app.example.org",       // scheme differs
		"https://app.example.org:8443", // port differs
		"https://app.example.org.evil.example",
		"null",
	} {
		_, resp, err := dial(t, url, transportWS, origin)
		if err == nil {
			t.Fatalf("origin %q: upgrade succeeded", origin)
		}
		if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("origin %q: want HTTP 403, got %v (%v)", origin, resp, err)
		}
	}

	// Allowed origins (case-insensitively), and clients that send none.
	for _, origin := range []string{"https://app.example.org", "HTTPS://APP.EXAMPLE.ORG", "http://localhost:5173", ""} {
		c := mustDial(t, url, transportWS, origin)
		handshake(t, c)
	}

	// Development mode lets any page in.
	_, devURL := startServer(t, Options{AllowAnyOrigin: true}, transport.Websocket{})
	handshake(t, mustDial(t, devURL, transportWS, "https://evil.example"))
}

func TestNewRejectsMalformedOrigins(t *testing.T) {
	for _, o := range []string{"app.example.org", "*", "https://app.example.org/path", "https://user@app.example.org", "https://app.example.org?x=1", "null"} {
		if _, err := New(Options{AllowedOrigins: []string{o}}); err == nil {
			t.Errorf("New accepted origin %q", o)
		}
	}
}

func TestPayloadReadLimit(t *testing.T) {
	limit := int64(256)
	rec := newRecorder()
	ws := transport.Websocket{PayloadReadLimit: &limit}
	rec.install(&ws)
	_, url := startServer(t, Options{}, ws)
	c := mustDial(t, url, transportWS, "")
	handshake(t, c) // a message under the limit goes through

	query := `subscription { name } # ` + strings.Repeat("x", 1024)
	payload, _ := json.Marshal(map[string]string{"query": query})
	send(t, c, message{Type: "subscribe", ID: "1", Payload: payload})

	_, err := readUntilClosed(c)
	if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		t.Fatalf("want close 1009, got %v", err)
	}
	rec.waitClosed(t)
	var sawLimit bool
	for _, e := range rec.errors() {
		sawLimit = sawLimit || errors.Is(e, websocket.ErrReadLimit)
	}
	if !sawLimit {
		t.Fatalf("server did not fail the read on the limit: %v", rec.errors())
	}
}

// gqlgen's own ping/pong (graphql-transport-ws messages) relies on
// SetReadDeadline to drop a client that stops answering.
func TestGraphQLPongTimeout(t *testing.T) {
	newConn := func(t *testing.T) (*websocket.Conn, *recorder) {
		rec := newRecorder()
		ws := transport.Websocket{PingPongInterval: 50 * time.Millisecond}
		rec.install(&ws)
		_, url := startServer(t, Options{}, ws)
		c := mustDial(t, url, transportWS, "")
		handshake(t, c)
		return c, rec
	}

	t.Run("answering client stays", func(t *testing.T) {
		c, _ := newConn(t)
		// Ten pings span five pong timeouts.
		for range 10 {
			expect(t, c, "ping")
			send(t, c, message{Type: "pong"})
		}
	})

	t.Run("silent client is dropped", func(t *testing.T) {
		c, rec := newConn(t)
		seen, err := readUntilClosed(c)
		if len(seen) == 0 || seen[0].Type != "ping" {
			t.Fatalf("messages before close: %+v", seen)
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("client gave up before the server: %v", err)
		}
		rec.waitClosed(t)
		var timedOut bool
		for _, e := range rec.errors() {
			timedOut = timedOut || (errors.As(e, &ne) && ne.Timeout())
		}
		if !timedOut {
			t.Fatalf("server did not time the read out: %v", rec.errors())
		}
	})
}

// Options.PingInterval uses websocket ping frames, so it also covers
// graphql-ws, whose protocol has no ping.
func TestControlPingTimeout(t *testing.T) {
	newConn := func(t *testing.T) (*websocket.Conn, *recorder, chan struct{}) {
		rec := newRecorder()
		ws := transport.Websocket{}
		rec.install(&ws)
		_, url := startServer(t, Options{PingInterval: 50 * time.Millisecond}, ws)
		c := mustDial(t, url, legacyWS, "")
		pings := make(chan struct{}, 100)
		handshake(t, c)
		return c, rec, pings
	}

	t.Run("answering client stays", func(t *testing.T) {
		c, rec, pings := newConn(t)
		answer := c.PingHandler() // gorilla's default replies with a pong
		c.SetPingHandler(func(data string) error {
			pings <- struct{}{}
			return answer(data)
		})
		errc := make(chan error, 1)
		go func() {
			_, err := readUntilClosed(c)
			errc <- err
		}()
		for range 10 {
			select {
			case <-pings:
			case err := <-errc:
				t.Fatalf("connection dropped: %v", err)
			case <-time.After(guard):
				t.Fatal("no ping")
			}
		}
		select {
		case code := <-rec.closed:
			t.Fatalf("server closed an answering client (%d)", code)
		default:
		}
	})

	t.Run("silent client is dropped", func(t *testing.T) {
		c, rec, pings := newConn(t)
		c.SetPingHandler(func(string) error {
			pings <- struct{}{}
			return nil // no pong
		})
		_, err := readUntilClosed(c)
		if len(pings) == 0 {
			t.Fatal("closed before any ping")
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("client gave up before the server: %v", err)
		}
		rec.waitClosed(t)
	})
}

// acceptOnly serves a bare Implementation, without gqlgen, to drive the
// connection directly.
func acceptOnly(t *testing.T, opts Options, serve func(transport.WebsocketConn)) string {
	t.Helper()
	impl, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := impl.Accept(w, r, transport.WebsocketAcceptOptions{})
		if err != nil {
			return
		}
		defer c.Close()
		serve(c)
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func TestConcurrentWritesAreSerialised(t *testing.T) {
	const writers, each = 16, 50
	url := acceptOnly(t, Options{}, func(c transport.WebsocketConn) {
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					_ = c.WriteJSON(map[string]int{"writer": w, "i": i})
				}
			})
		}
		wg.Wait()
		_, _, _ = c.NextReader() // hold the socket open until the client is done
	})
	c := mustDial(t, url, "", "")
	for range writers * each {
		var m map[string]int
		if err := c.ReadJSON(&m); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStalledReaderDoesNotBlockWriter(t *testing.T) {
	writeErr := make(chan error, 1)
	readErr := make(chan error, 1)
	url := acceptOnly(t, Options{WriteTimeout: 50 * time.Millisecond}, func(c transport.WebsocketConn) {
		read := make(chan error, 1)
		go func() {
			_, _, err := c.NextReader()
			read <- err
		}()
		big := strings.Repeat("x", 1<<20)
		for {
			// The client never reads: once the socket buffers are full, a
			// write must fail instead of blocking.
			if err := c.WriteJSON(big); err != nil {
				writeErr <- err
				break
			}
		}
		// Stay in the handler (whose return closes the connection) so that
		// only the failed write can end the pending read.
		select {
		case err := <-read:
			readErr <- err
		case <-time.After(guard):
			readErr <- nil
		}
	})
	mustDial(t, url, "", "")

	select {
	case err := <-writeErr:
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("want a write timeout, got %v", err)
		}
	case <-time.After(guard):
		t.Fatal("write blocked on a stalled client")
	}
	// The failed write also ends the pending read, so the owner of the
	// connection (gqlgen's read loop) notices and tears it down.
	if err := <-readErr; err == nil {
		t.Fatal("read still pending after a failed write")
	}
}

// Messages larger than the read buffer and the pooled write buffer arrive
// whole, in both directions, also when several sockets write at once.
func TestMessagesLargerThanBuffers(t *testing.T) {
	sizes := []int{0, readBufferSize - 20, readBufferSize + 1, writeBufferSize + 1, 3*writeBufferSize + 7, 60 << 10}
	url := acceptOnly(t, Options{}, func(c transport.WebsocketConn) {
		for range sizes {
			_, r, err := c.NextReader()
			if err != nil {
				return
			}
			var in string
			if err := json.NewDecoder(r).Decode(&in); err != nil {
				return
			}
			if err := c.WriteJSON(strings.ToUpper(in)); err != nil {
				return
			}
		}
		_, _, _ = c.NextReader()
	})
	var wg sync.WaitGroup
	for range 4 {
		c := mustDial(t, url, "", "")
		wg.Go(func() {
			for _, n := range sizes {
				msg := strings.Repeat("ab", n/2)
				if err := c.WriteJSON(msg); err != nil {
					t.Errorf("write %d bytes: %v", n, err)
					return
				}
				var got string
				if err := c.ReadJSON(&got); err != nil {
					t.Errorf("read %d bytes: %v", n, err)
					return
				}
				if got != strings.ToUpper(msg) {
					t.Errorf("%d bytes: got %d bytes back, not the same", n, len(got))
				}
			}
		})
	}
	wg.Wait()
}

// Close stops the pinger: no ping frame follows it.
func TestCloseStopsPinger(t *testing.T) {
	closed := make(chan struct{})
	url := acceptOnly(t, Options{PingInterval: 20 * time.Millisecond}, func(c transport.WebsocketConn) {
		time.Sleep(50 * time.Millisecond)
		_ = c.Close()
		close(closed)
	})
	c := mustDial(t, url, "", "")
	pings := make(chan struct{}, 100)
	c.SetPingHandler(func(string) error {
		select {
		case <-closed:
			t.Error("ping after Close")
		default:
		}
		pings <- struct{}{}
		return nil
	})
	_, err := readUntilClosed(c)
	if len(pings) == 0 {
		t.Fatalf("no ping before Close (%v)", err)
	}
	time.Sleep(100 * time.Millisecond) // a stray timer would fire by now
}

type fakeHijacker struct {
	http.ResponseWriter
	conn net.Conn
	brw  *bufio.ReadWriter
}

func (f *fakeHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) { return f.conn, f.brw, nil }

// The buffers net/http gives away with the connection are emptied, so that
// the connection object still referencing them does not keep 8 KiB per
// socket; unless the client already sent data, which gorilla must see to
// refuse the handshake.
func TestHijackReleasesHTTPBuffers(t *testing.T) {
	server, client := net.Pipe()
	defer server.Close()
	defer client.Close()

	orig := bufio.NewReadWriter(bufio.NewReader(server), bufio.NewWriter(server))
	rw := &releaseHTTPBuffers{ResponseWriter: &fakeHijacker{conn: server, brw: orig}}
	c, brw, err := rw.Hijack()
	if err != nil || c != server {
		t.Fatalf("hijack: %v", err)
	}
	if orig.Reader.Size() != 0 || orig.Writer.Size() != 0 {
		t.Fatalf("net/http's buffers kept: reader %d, writer %d bytes", orig.Reader.Size(), orig.Writer.Size())
	}
	// The reader is the socket's own, which gorilla reuses (over 256
	// bytes) and conn looks into; the writer is minimal.
	if brw == orig || brw.Reader != rw.br || brw.Reader.Size() != readBufferSize || brw.Writer.Size() > 16 || brw.Reader.Buffered() != 0 {
		t.Fatalf("want the socket's reader and a minimal writer, got reader %d, writer %d", brw.Reader.Size(), brw.Writer.Size())
	}

	early := bufio.NewReadWriter(bufio.NewReader(strings.NewReader("early bytes")), bufio.NewWriter(server))
	if _, err := early.Reader.Peek(1); err != nil {
		t.Fatal(err)
	}
	_, brw, _ = (&releaseHTTPBuffers{ResponseWriter: &fakeHijacker{conn: server, brw: early}}).Hijack()
	if brw != early || brw.Reader.Buffered() == 0 {
		t.Fatal("early client data dropped")
	}
}
