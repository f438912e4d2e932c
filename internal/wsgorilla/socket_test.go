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

// gqlgen leaves one way out of a conversation without closing the
// connection (a connection_init payload that is not an object); Detached
// closes it.
func TestDetachedClosesWhatGqlgenLeavesOpen(t *testing.T) {
	_, url, _ := detachedWithInit(t)
	c := mustDial(t, url, transportWS, "")
	send(t, c, message{Type: "connection_init", Payload: json.RawMessage(`[1]`)})
	_ = c.SetReadDeadline(time.Now().Add(guard))
	_, err := readUntilClosed(c)
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the connection was left open")
	}
}

func TestCloseSocketOutsideASocket(t *testing.T) {
	if CloseSocket(context.Background(), CloseReauthenticate, "") || Closing(context.Background()) {
		t.Fatal("a context without a socket was taken for one")
	}
}
