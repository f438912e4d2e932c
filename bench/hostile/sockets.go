package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/healthmed/healthmed/internal/live"
)

// The server's default caps (HEALTHMED_SUBSCRIPTIONS_PER_SOCKET and
// HEALTHMED_SUBSCRIPTIONS_PER_ACCOUNT), which the benchmark does not set.
const (
	perSocket  = 25
	perAccount = 100
)

// openSocket opens a graphql-transport-ws socket signed in with token.
func openSocket(ctx context.Context, c *client, token string) (*websocket.Conn, error) {
	url := "ws" + strings.TrimPrefix(c.base, "http") + "/graphql"
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second}
	conn, _, err := d.DialContext(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	if err := conn.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"authorization": "Bearer " + token}}); err != nil {
		conn.Close()
		return nil, err
	}
	var ack struct{ Type string }
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := conn.ReadJSON(&ack); err != nil || ack.Type != "connection_ack" {
		conn.Close()
		return nil, fmt.Errorf("connection_init: %v %q", err, ack.Type)
	}
	return conn, nil
}

func subscribe(conn *websocket.Conn, id, query string) error {
	return conn.WriteJSON(map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": query}})
}

// heard is what a socket received until it fell quiet.
type heard struct {
	events, refused int
	closed          *websocket.CloseError
}

// listen reads until nothing arrives for quiet, counting events and
// refusals (an error frame, or a next frame carrying errors).
func listen(conn *websocket.Conn, quiet time.Duration) heard {
	var h heard
	for {
		_ = conn.SetReadDeadline(time.Now().Add(quiet))
		var m struct {
			Type    string
			Payload json.RawMessage
		}
		if err := conn.ReadJSON(&m); err != nil {
			errors.As(err, &h.closed)
			return h
		}
		switch {
		case m.Type == "error" || (m.Type == "next" && bytes.Contains(m.Payload, []byte(`"errors"`))):
			h.refused++
		case m.Type == "next":
			h.events++
		}
	}
}

// manySubscriptions subscribes n times on one socket.
func manySubscriptions(ctx context.Context, c *client, token string, n int) (string, error) {
	conn, err := openSocket(ctx, c, token)
	if err != nil {
		return "no socket", err
	}
	defer conn.Close()
	for i := 0; i < n; i++ {
		if err := subscribe(conn, fmt.Sprint(i), "subscription { appointmentUpdated { id } }"); err != nil {
			return fmt.Sprintf("socket closed after %d subscribes", i), nil
		}
	}
	h := listen(conn, 2*time.Second)
	if h.closed != nil {
		return fmt.Sprintf("closed %d after %d errors", h.closed.Code, h.refused), nil
	}
	return fmt.Sprintf("%d of %d refused", h.refused, n), nil
}

// accountSubscriptions fills sockets to the per-socket cap until the
// account holds more than its cap allows: what passes the account's cap
// is refused, whichever socket it comes on.
func accountSubscriptions(ctx context.Context, c *client, token string, sockets int) (string, error) {
	conns := make([]*websocket.Conn, 0, sockets)
	defer func() {
		for _, conn := range conns {
			conn.Close()
		}
	}()
	for s := 0; s < sockets; s++ {
		conn, err := openSocket(ctx, c, token)
		if err != nil {
			return fmt.Sprintf("socket %d refused", s), err
		}
		conns = append(conns, conn)
		for i := 0; i < perSocket; i++ {
			if err := subscribe(conn, fmt.Sprint(i), "subscription { appointmentUpdated { id } }"); err != nil {
				return fmt.Sprintf("socket %d closed", s), err
			}
		}
	}
	refused := 0
	for _, h := range listenAll(conns, 2*time.Second) {
		refused += h.refused
	}
	n := sockets * perSocket
	if want := n - perAccount; refused != want {
		return fmt.Sprintf("%d of %d refused", refused, n), fmt.Errorf("%d refused, want %d", refused, want)
	}
	return fmt.Sprintf("%d of %d refused", refused, n), nil
}

func listenAll(conns []*websocket.Conn, quiet time.Duration) []heard {
	hs := make([]heard, len(conns))
	var wg sync.WaitGroup
	for i, conn := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hs[i] = listen(conn, quiet)
		}()
	}
	wg.Wait()
	return hs
}

// resumeMarks are the demo doctor's two event ids the replay attack
// resumes from: live.MaxReplay events follow the newer, one more the
// older.
var resumeMarks struct{ older, newer string }

// prepareReplay makes the demo doctor's agenda events the replay attack
// resumes over: two marked events, then live.MaxReplay more.
func prepareReplay(ctx context.Context, c *client) error {
	token := doctorToken(c)
	conn, err := openSocket(ctx, c, token)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := subscribe(conn, "mark", "subscription { agendaUpdated { id } }"); err != nil {
		return err
	}
	// The subscription must be in the hub before the slots are written.
	time.Sleep(500 * time.Millisecond)
	day := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 6, 0)
	if err := createSlots(c, token, day, 2); err != nil {
		return err
	}
	var ids []string
	for len(ids) < 2 {
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		var m struct {
			Payload struct {
				Data struct{ AgendaUpdated struct{ ID string } }
			}
		}
		if err := conn.ReadJSON(&m); err != nil {
			return fmt.Errorf("waiting for the marked events: %w", err)
		}
		ids = append(ids, m.Payload.Data.AgendaUpdated.ID)
	}
	resumeMarks.older, resumeMarks.newer = ids[0], ids[1]
	return createSlots(c, token, day.Add(time.Hour), live.MaxReplay)
}

// createSlots opens n ten-minute slots from start on the doctor's agenda.
func createSlots(c *client, token string, start time.Time, n int) error {
	in := make([]map[string]string, n)
	for i := range in {
		s := start.Add(time.Duration(i) * 10 * time.Minute)
		in[i] = map[string]string{"startsAt": s.Format(time.RFC3339), "endsAt": s.Add(10 * time.Minute).Format(time.RFC3339)}
	}
	var out struct{ CreateSlots []struct{ ID string } }
	return c.data(token, `mutation($in: [SlotInput!]!) { createSlots(input: $in) { id } }`, map[string]any{"in": in}, &out)
}

// replayFlood resumes n subscriptions on one socket, alternately from a
// position live.MaxReplay events back (the longest replay served) and
// from one event further (refused: the client must refetch).
func replayFlood(ctx context.Context, c *client, n int) (string, error) {
	conn, err := openSocket(ctx, c, doctorToken(c))
	if err != nil {
		return "no socket", err
	}
	defer conn.Close()
	for i := 0; i < n; i++ {
		after := resumeMarks.newer
		if i%2 == 1 {
			after = resumeMarks.older
		}
		if err := subscribe(conn, fmt.Sprint(i), fmt.Sprintf(`subscription { agendaUpdated(after: %q) { id kind } }`, after)); err != nil {
			return fmt.Sprintf("socket closed after %d subscribes", i), nil
		}
	}
	h := listen(conn, 2*time.Second)
	ans := fmt.Sprintf("%d events replayed, %d of %d refused", h.events, h.refused, n)
	served := (n + 1) / 2
	if h.events != served*live.MaxReplay || h.refused != n-served {
		return ans, fmt.Errorf("want %d events and %d refusals", served*live.MaxReplay, n-served)
	}
	return ans, nil
}
