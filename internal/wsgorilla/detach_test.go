package wsgorilla

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/testserver"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
)

// startDetached serves a Detached transport behind a handler that reports
// when net/http's handler call returns.
func startDetached(t *testing.T, opts Options) (*testserver.TestServer, string, chan struct{}) {
	t.Helper()
	impl, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h := testserver.New()
	h.AddTransport(Detached{Websocket: transport.Websocket{Implementation: impl}})
	returned := make(chan struct{}, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		returned <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	return h, "ws" + strings.TrimPrefix(srv.URL, "http"), returned
}

func TestDetachedReturnsAfterHijackAndKeepsServing(t *testing.T) {
	h, url, returned := startDetached(t, Options{})
	headers := make(chan http.Header, 1)
	h.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		headers <- graphql.GetOperationContext(ctx).Headers
		return next(ctx)
	})
	c := mustDial(t, url, transportWS, "")
	// The handler call returns right after the upgrade, before the client
	// has said anything: net/http's request (and its context) are over.
	select {
	case <-returned:
	case <-time.After(guard):
		t.Fatal("the HTTP handler is still running the websocket conversation")
	}
	handshake(t, c)
	send(t, c, message{Type: "subscribe", ID: "1", Payload: []byte(`{"query":"subscription { name }"}`)})
	for range 2 {
		h.SendNextSubscriptionMessage()
		if m := expect(t, c, "next"); string(m.Payload) != `{"data":{"name":"test"}}` {
			t.Fatalf("payload %s", m.Payload)
		}
	}
	h.SendCompleteSubscriptionMessage()
	expect(t, c, "complete")
	// The request's headers are let go once the socket is up.
	if hdr := <-headers; hdr != nil {
		t.Fatalf("the subscription still holds the request's headers: %v", hdr)
	}
}

func TestDetachedRefusedUpgradeAnswersOnTheRequest(t *testing.T) {
	_, url, returned := startDetached(t, Options{AllowedOrigins: []string{"https://app.example.org"}})
	_, resp, err := dial(t, url, transportWS, "https://evil.example.org")
	if err == nil {
		t.Fatal("a foreign origin was upgraded")
	}
	if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("response %v, want 403", resp)
	}
	select {
	case <-returned:
	case <-time.After(guard):
		t.Fatal("handler never returned")
	}
}

// The conversation must not end with the request's context, which
// net/http cancels as soon as the handler returns; only the values are
// carried over.
func TestDetachedKeepsContextValuesNotCancellation(t *testing.T) {
	type key struct{}
	impl, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan context.Context, 1)
	ws := transport.Websocket{
		Implementation: impl,
		InitFunc: func(ctx context.Context, _ transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			got <- ctx
			return ctx, nil, nil
		},
	}
	h := testserver.New()
	h.AddTransport(Detached{Websocket: ws})
	requestCtx := make(chan context.Context, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requestCtx <- r.Context()
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), key{}, "request value")))
	}))
	t.Cleanup(srv.Close)
	c := mustDial(t, "ws"+strings.TrimPrefix(srv.URL, "http"), transportWS, "")
	handshake(t, c)
	ctx := <-got
	if ctx.Value(key{}) != "request value" {
		t.Fatal("the request's values did not reach the conversation")
	}
	// net/http cancels the request's context once the handler returns.
	select {
	case <-(<-requestCtx).Done():
	case <-time.After(guard):
		t.Fatal("the request never ended")
	}
	if ctx.Err() != nil {
		t.Fatalf("conversation context ended with the request: %v", ctx.Err())
	}
	// Still served: a ping is answered.
	send(t, c, message{Type: "ping"})
	expect(t, c, "pong")
	_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(guard))
}
