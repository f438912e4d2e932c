package wsgorilla

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/testserver"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
)

// detachedWithInit serves Detached and hands over each conversation's
// context as connection_init sees it.
func detachedWithInit(t *testing.T) (*testserver.TestServer, string, chan context.Context) {
	t.Helper()
	return detachedWithInitReporting(t, nil)
}

func detachedWithInitReporting(t *testing.T, report transport.WebsocketErrorFunc) (*testserver.TestServer, string, chan context.Context) {
	t.Helper()
	impl, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan context.Context, 4)
	h := testserver.New()
	h.AddTransport(Detached{Websocket: transport.Websocket{
		Implementation: impl,
		InitFunc: func(ctx context.Context, _ transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			got <- ctx
			return ctx, nil, nil
		},
		ErrorFunc: report,
	}})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, "ws" + strings.TrimPrefix(srv.URL, "http"), got
}

// CloseSocket's code is the last thing the client hears: a complete
// racing it is dropped, since clients take a complete as the end of the
// subscription and would not resubscribe after reconnecting. The
// conversation's context ends with the socket.
func TestCloseSocketSendsTheCodeAloneAndEndsTheContext(t *testing.T) {
	for _, tc := range []struct{ proto, subscribe string }{{transportWS, "subscribe"}, {legacyWS, "start"}} {
		t.Run(tc.proto, func(t *testing.T) {
			h, url, inits := detachedWithInit(t)
			c := mustDial(t, url, tc.proto, "")
			handshake(t, c)
			ctx := <-inits
			send(t, c, message{Type: tc.subscribe, ID: "1", Payload: json.RawMessage(`{"query":"subscription { name }"}`)})
			h.SendNextSubscriptionMessage()
			read(t, c)
			if Closing(ctx) {
				t.Fatal("closing before CloseSocket")
			}
			if !CloseSocket(ctx, CloseReauthenticate, "token expired") {
				t.Fatal("CloseSocket found no socket")
			}
			if !Closing(ctx) {
				t.Fatal("not closing after CloseSocket")
			}
			h.SendCompleteSubscriptionMessage()
			seen, err := readUntilClosed(c)
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != CloseReauthenticate || ce.Text != "token expired" {
				t.Fatalf("closed with %v, want %d", err, CloseReauthenticate)
			}
			for _, m := range seen {
				if m.Type != "ka" {
					t.Fatalf("sent %s %s before the close frame", m.Type, m.ID)
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(guard):
				t.Fatal("the conversation's context outlived the socket")
			}
		})
	}
}

// A peer that ignores the close frame is dropped after the grace.
func TestCloseSocketDropsAPeerThatDoesNotAnswer(t *testing.T) {
	_, url, inits := detachedWithInit(t)
	c := mustDial(t, url, transportWS, "")
	handshake(t, c)
	ctx := <-inits
	// A custom close handler that does not answer: gorilla's default one
	// echoes the close frame at once.
	c.SetCloseHandler(func(int, string) error { return nil })
	start := time.Now()
	CloseSocket(ctx, CloseServiceRestart, "server restarting")
	_, err := readUntilClosed(c)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != CloseServiceRestart {
		t.Fatalf("closed with %v, want %d", err, CloseServiceRestart)
	}
	select {
	case <-ctx.Done():
	case <-time.After(guard):
		t.Fatal("a silent peer kept the socket open")
	}
	if d := time.Since(start); d < closeGrace/2 {
		t.Fatalf("dropped after %v, before the grace", d)
	}
}

// gqlgen leaves a conversation over a message it cannot use without a
// close frame of its own: a connection_init payload that is not an object
// ends it silently, and a frame it cannot decode after the handshake is
// reported as a read error, followed at best by a generic 1000 from
// another goroutine. The client must hear that it broke the protocol.
func TestDetachedRefusesWhatGqlgenCannotUse(t *testing.T) {
	for _, proto := range []string{transportWS, legacyWS} {
		want := websocket.CloseProtocolError
		if proto == transportWS {
			want = CloseInvalidMessage
		}
		for _, tc := range []struct {
			name   string
			init   bool
			frames []string
		}{
			{name: "init payload not an object", frames: []string{`{"type":"connection_init","payload":[1]}`}},
			// A client that does not wait for the answer: the frames it
			// sent after must not reset the connection before the close
			// frame is read.
			{name: "init payload not an object, more behind it", frames: []string{`{"type":"connection_init","payload":"x"}`, `{"type":"ping"}`, `{"type":"ping"}`}},
			{name: "invalid JSON after init", init: true, frames: []string{`{not json`}},
			{name: "unknown type after init", init: true, frames: []string{`{"type":"bogus","id":"1"}`}},
			// gqlgen would answer these with an error frame of its own,
			// without a code.
			{name: "subscribe payload a string", init: true, frames: []string{`{"type":"SUB","id":"1","payload":"x"}`}},
			{name: "subscribe payload an array", init: true, frames: []string{`{"type":"SUB","id":"1","payload":[{"query":"subscription { x }"}]}`}},
			{name: "subscribe query a number", init: true, frames: []string{`{"type":"SUB","id":"1","payload":{"query":5}}`}},
			{name: "subscribe without a payload", init: true, frames: []string{`{"type":"SUB","id":"1"}`}},
		} {
			t.Run(proto+" "+tc.name, func(t *testing.T) {
				errs := make(chan error, 4)
				_, url, inits := detachedWithInitReporting(t, func(_ context.Context, err error) { errs <- err })
				c := mustDial(t, url, proto, "")
				if tc.init {
					handshake(t, c)
					<-inits
				}
				sub := map[string]string{transportWS: "subscribe", legacyWS: "start"}[proto]
				frames := make([]string, len(tc.frames))
				for i, f := range tc.frames {
					frames[i] = strings.Replace(f, `"SUB"`, `"`+sub+`"`, 1)
				}
				expectClose(t, c, frames, want)
				if tc.init {
					// The application still hears of it.
					select {
					case <-errs:
					case <-time.After(guard):
						t.Fatal("ErrorFunc was not called")
					}
				}
			})
		}
	}
}

// A read that fails is not a refusal: a peer that closes in order gets
// its close echoed, not a protocol error.
func TestDetachedOrderlyCloseIsNotRefused(t *testing.T) {
	_, url, inits := detachedWithInit(t)
	c := mustDial(t, url, transportWS, "")
	handshake(t, c)
	<-inits
	if err := c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(guard))
	_, err := readUntilClosed(c)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseNormalClosure {
		t.Fatalf("closed with %v, want %d", err, websocket.CloseNormalClosure)
	}
}

// expectClose sends frames and reads until the server closes the
// socket, which must be with code want; it returns what came before.
func expectClose(t *testing.T, c *websocket.Conn, frames []string, want int) []message {
	t.Helper()
	for _, f := range frames {
		if err := c.WriteMessage(websocket.TextMessage, []byte(f)); err != nil {
			t.Fatal(err)
		}
	}
	_ = c.SetReadDeadline(time.Now().Add(guard))
	seen, err := readUntilClosed(c)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != want {
		t.Fatalf("closed with %v, want %d", err, want)
	}
	return seen
}

func TestCloseSocketOutsideASocket(t *testing.T) {
	if CloseSocket(context.Background(), CloseReauthenticate, "") || Closing(context.Background()) {
		t.Fatal("a context without a socket was taken for one")
	}
}
