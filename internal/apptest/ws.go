package apptest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The two websocket sub-protocols of the contract.
const (
	TransportWS = "graphql-transport-ws"
	LegacyWS    = "graphql-ws"
)

// WS is a GraphQL websocket client speaking either sub-protocol.
type WS struct {
	t     testing.TB
	env   *Env
	conn  *websocket.Conn
	proto string
}

// Message is one server message.
type Message struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	Payload json.RawMessage `json:"payload"`
}

// DialWS opens a socket and sends connection_init with the token (none
// when token is ""). It returns the socket and the server's first answer
// to the init; with a refused init the socket is closed by the server.
func (e *Env) DialWS(t testing.TB, proto, token, origin string) (*WS, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	payload := map[string]any{}
	if token != "" {
		payload["authorization"] = "Bearer " + token
	}
	return e.DialWSWith(t, proto, h, payload)
}

// DialWSWith opens a socket with the upgrade request's headers h and
// sends connection_init with payload, as given.
func (e *Env) DialWSWith(t testing.TB, proto string, h http.Header, payload map[string]any) (*WS, *http.Response, error) {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{proto}, HandshakeTimeout: 5 * time.Second}
	url := "ws" + strings.TrimPrefix(e.Server.URL, "http") + "/graphql"
	c, res, err := d.Dial(url, h)
	if err != nil {
		return nil, res, err
	}
	t.Cleanup(func() { c.Close() })
	w := &WS{t: t, env: e, conn: c, proto: proto}
	w.send(map[string]any{"type": "connection_init", "payload": payload})
	return w, res, nil
}

// DialBare opens a socket and sends nothing.
func (e *Env) DialBare(t testing.TB, proto string) (*WS, error) {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{proto}, HandshakeTimeout: 5 * time.Second}
	c, _, err := d.Dial("ws"+strings.TrimPrefix(e.Server.URL, "http")+"/graphql", nil)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return &WS{t: t, env: e, conn: c, proto: proto}, nil
}

// Connect dials and requires the server's ack.
func (e *Env) Connect(t testing.TB, proto, token string) *WS {
	t.Helper()
	w, _, err := e.DialWS(t, proto, token, "")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	m, err := w.Next(5 * time.Second)
	if err != nil || m.Type != "connection_ack" {
		t.Fatalf("init: %+v %v", m, err)
	}
	return w
}

func (w *WS) send(v any) {
	w.t.Helper()
	if err := w.conn.WriteJSON(v); err != nil {
		w.t.Fatalf("ws write: %v", err)
	}
}

// Subscribe starts an operation under id.
func (w *WS) Subscribe(id, query string, vars map[string]any) {
	w.t.Helper()
	typ := "subscribe"
	if w.proto == LegacyWS {
		typ = "start"
	}
	w.send(map[string]any{"type": typ, "id": id, "payload": map[string]any{"query": query, "variables": vars}})
}

// SubscribeLive starts a subscription and returns once it receives every
// event committed from then on. A fixed pause instead loses the first
// event on a loaded machine. Another of the server's subscriptions ending
// meanwhile would let it return early.
func (w *WS) SubscribeLive(id, query string, vars map[string]any) {
	w.t.Helper()
	hub := w.env.App.Hub
	before := hub.Receiving()
	w.Subscribe(id, query, vars)
	WaitFor(w.t, "subscription "+id+" to start", func() bool { return hub.Receiving() > before })
}

// Complete ends operation id from the client's side.
func (w *WS) Complete(id string) {
	w.t.Helper()
	typ := "complete"
	if w.proto == LegacyWS {
		typ = "stop"
	}
	w.send(map[string]any{"type": typ, "id": id})
}

// Next returns the next message that is not a keep-alive, answering pings.
func (w *WS) Next(timeout time.Duration) (Message, error) {
	deadline := time.Now().Add(timeout)
	for {
		_ = w.conn.SetReadDeadline(deadline)
		var m Message
		if err := w.conn.ReadJSON(&m); err != nil {
			return m, err
		}
		switch m.Type {
		case "ka", "pong":
			continue
		case "ping":
			_ = w.conn.WriteJSON(map[string]any{"type": "pong"})
			continue
		}
		return m, nil
	}
}

// NextData waits for the next data message of operation id and decodes its
// data into v. Errors in the payload fail the test.
func (w *WS) NextData(id string, v any) {
	w.t.Helper()
	m, err := w.Next(10 * time.Second)
	if err != nil {
		w.t.Fatalf("waiting for data on %s: %v", id, err)
	}
	if (m.Type != "next" && m.Type != "data") || m.ID != id {
		w.t.Fatalf("want data on %s, got %s %s %s", id, m.Type, m.ID, m.Payload)
	}
	var p struct {
		Data   json.RawMessage `json:"data"`
		Errors []Error         `json:"errors"`
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil || len(p.Errors) > 0 {
		w.t.Fatalf("payload %s: %v %+v", m.Payload, err, p.Errors)
	}
	if err := json.Unmarshal(p.Data, v); err != nil {
		w.t.Fatalf("data %s: %v", p.Data, err)
	}
}

// CloseCode waits for the server to close the socket and returns the code.
func (w *WS) CloseCode(timeout time.Duration) (int, error) {
	for {
		_, err := w.Next(timeout)
		if err == nil {
			continue
		}
		if ce, ok := err.(*websocket.CloseError); ok {
			return ce.Code, nil
		}
		return 0, fmt.Errorf("no close frame: %w", err)
	}
}

// Close drops the connection without a goodbye, like a lost network.
func (w *WS) Close() { w.conn.Close() }

// Closed waits for the server to close the socket and returns what it
// sent before the close frame (keep-alives and pings left out) and the
// close code.
func (w *WS) Closed(timeout time.Duration) (before []Message, code int, err error) {
	deadline := time.Now().Add(timeout)
	for {
		m, err := w.Next(time.Until(deadline))
		if err == nil {
			before = append(before, m)
			continue
		}
		if ce, ok := err.(*websocket.CloseError); ok {
			return before, ce.Code, nil
		}
		return before, 0, fmt.Errorf("no close frame: %w", err)
	}
}

// Send writes any message, well-formed or not, as one text frame.
func (w *WS) Send(v any) error { return w.conn.WriteJSON(v) }

// SendFrame writes a raw frame of the given gorilla message type.
func (w *WS) SendFrame(messageType int, data []byte) error {
	_ = w.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return w.conn.WriteMessage(messageType, data)
}
