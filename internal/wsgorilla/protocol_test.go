package wsgorilla

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/testserver"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
)

// A graphql-transport-ws conversation out of order ends with the code
// the protocol names for it, which graphql-ws clients act on.
func TestConversationOutOfOrder(t *testing.T) {
	sub := func(id string) string {
		return `{"type":"subscribe","id":"` + id + `","payload":{"query":"subscription { name }"}}`
	}
	for _, tc := range []struct {
		name   string
		init   bool
		frames []string
		want   int
	}{
		{name: "subscribe before connection_init", frames: []string{sub("1")}, want: closeUnauthorized},
		{name: "a second connection_init", init: true, frames: []string{`{"type":"connection_init"}`}, want: closeTooManyInitCalls},
		{name: "an id already in use", init: true, frames: []string{sub("1"), sub("1")}, want: closeDuplicateID},
		{name: "subscribe without an id", init: true, frames: []string{`{"type":"subscribe","payload":{"query":"subscription { name }"}}`}, want: CloseInvalidMessage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, url, inits := detachedWithInit(t)
			c := mustDial(t, url, transportWS, "")
			if tc.init {
				handshake(t, c)
				<-inits
			}
			expectClose(t, c, tc.frames, tc.want)
		})
	}
}

// A client that never sends connection_init is closed when InitTimeout
// has passed: 4408 in graphql-transport-ws, a protocol error in the
// legacy protocol, which names no code.
func TestConnectionInitTimeout(t *testing.T) {
	for proto, want := range map[string]int{transportWS: closeInitTimeout, legacyWS: websocket.CloseProtocolError} {
		t.Run(proto, func(t *testing.T) {
			_, url := serveDetached(t, transport.Websocket{InitTimeout: 100 * time.Millisecond})
			expectClose(t, mustDial(t, url, proto, ""), nil, want)
		})
	}
}

// InitFunc's Refused closes the socket with its code and reason; the
// legacy protocol hears the reason in a connection_error first.
func TestInitRefusedWithItsCode(t *testing.T) {
	for _, proto := range []string{transportWS, legacyWS} {
		t.Run(proto, func(t *testing.T) {
			_, url := serveDetached(t, transport.Websocket{
				InitFunc: func(ctx context.Context, _ transport.InitPayload) (context.Context, *transport.InitPayload, error) {
					return ctx, nil, Refused{Code: CloseReauthenticate, Reason: "invalid or expired token"}
				}})
			c := mustDial(t, url, proto, "")
			send(t, c, message{Type: "connection_init", Payload: json.RawMessage(`{}`)})
			_ = c.SetReadDeadline(time.Now().Add(guard))
			seen, err := readUntilClosed(c)
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != CloseReauthenticate || ce.Text != "invalid or expired token" {
				t.Fatalf("closed with %v, want %d", err, CloseReauthenticate)
			}
			if proto == legacyWS && (len(seen) != 1 || seen[0].Type != "connection_error") {
				t.Fatalf("legacy protocol heard %+v before the close, want a connection_error", seen)
			}
		})
	}
}

// What an idle subscriber costs the server is counted in goroutines: the
// socket's reader and the subscription's own, nothing that only waits for
// the end (gqlgen's conversation keeps a third). The socket's goroutines
// are told from any other test's by a profiler label, which connection_init
// sets on the reader and the goroutines it starts inherit.
func TestAnIdleSubscriberKeepsTwoGoroutines(t *testing.T) {
	_, url := serveDetached(t, transport.Websocket{
		InitFunc: func(ctx context.Context, _ transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			pprof.SetGoroutineLabels(pprof.WithLabels(ctx, pprof.Labels("socket", "idle subscriber")))
			return ctx, nil, nil
		}})
	const n = 20
	for i := range n {
		c := mustDial(t, url, transportWS, "")
		handshake(t, c)
		send(t, c, message{Type: "subscribe", ID: strconv.Itoa(i), Payload: json.RawMessage(`{"query":"subscription { name }"}`)})
	}
	// The subscriptions start on their own time.
	deadline := time.Now().Add(guard)
	for got := labelled(t, "idle subscriber"); got != 2*n; got = labelled(t, "idle subscriber") {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines for %d idle subscribers, want 2 each", got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// labelled counts the goroutines labelled socket=value.
func labelled(t *testing.T, value string) int {
	t.Helper()
	var b bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&b, 1); err != nil {
		t.Fatal(err)
	}
	want := `"socket":"` + value + `"`
	total := 0
	var count int
	for line := range strings.SplitSeq(b.String(), "\n") {
		if n, _, ok := strings.Cut(line, " @ "); ok {
			count, _ = strconv.Atoi(n)
		}
		if strings.HasPrefix(line, "# labels: ") && strings.Contains(line, want) {
			total += count
		}
	}
	return total
}

// serveDetached serves Detached configured by cfg, with an
// Implementation of this package, and returns its websocket URL.
func serveDetached(t *testing.T, cfg transport.Websocket) (*testserver.TestServer, string) {
	t.Helper()
	impl, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Implementation = impl
	h := testserver.New()
	h.AddTransport(Detached{Websocket: cfg})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, "ws" + strings.TrimPrefix(srv.URL, "http")
}
