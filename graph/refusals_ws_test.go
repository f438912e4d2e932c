package graph_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/healthmed/healthmed/internal/apptest"
)

// wsCase is a conversation a client may start: the frames it sends, in
// order, with "INIT" standing for a valid connection_init.
type wsCase struct {
	name   string
	frames []string
	binary bool
	field  string // when set, the answer must be BAD_USER_INPUT on it
	at     string // and, when set, the error's path must end at this field
}

// wsMalformed are the conversations; resume is an event id of the
// signed-in doctor's agenda that an event with an appointment follows.
func wsMalformed(proto, resume string) []wsCase {
	sub, stop := "subscribe", "complete"
	if proto == apptest.LegacyWS {
		sub, stop = "start", "stop"
	}
	op := func(id, payload string) string {
		return `{"type":"` + sub + `","id":"` + id + `","payload":` + payload + `}`
	}
	agenda := `{"query":"subscription { agendaUpdated { __typename } }"}`
	// A Time or Cursor argument below the root field is read only when an
	// event is rendered: resuming replays one at once. Its error nulls the
	// appointment, and the subscription goes on.
	nested := func(decl, sel string, vars map[string]any) string {
		vars["a"] = resume
		return mustJSON(map[string]any{"variables": vars,
			"query": "subscription ($a: ID" + decl + ") { agendaUpdated(after: $a) { appointment { doctor { " + sel + " } } } }"})
	}
	return []wsCase{
		{name: "invalid JSON before init", frames: []string{`{not json`}},
		{name: "invalid JSON after init", frames: []string{"INIT", `{not json`}},
		{name: "unknown message type before init", frames: []string{`{"type":"bogus"}`}},
		{name: "unknown message type after init", frames: []string{"INIT", `{"type":"bogus","id":"1"}`}},
		{name: "subscribe before init", frames: []string{op("1", agenda)}},
		{name: "init payload not an object", frames: []string{`{"type":"connection_init","payload":"x"}`}},
		{name: "init without a token", frames: []string{`{"type":"connection_init","payload":{}}`}},
		{name: "init with a bad token", frames: []string{`{"type":"connection_init","payload":{"authorization":"Bearer nope"}}`}},
		{name: "init twice", frames: []string{"INIT", "INIT"}},
		{name: "huge frame", frames: []string{"INIT", op("1", `{"query":"subscription { agendaUpdated { __typename } }","variables":{"pad":"`+strings.Repeat("x", 100<<10)+`"}}`)}},
		{name: "binary frame", frames: []string{"INIT", op("1", agenda)}, binary: true},
		{name: "payload not an object", frames: []string{"INIT", op("1", `"x"`)}},
		{name: "payload a batch", frames: []string{"INIT", op("1", `[`+agenda+`]`)}},
		{name: "query a number", frames: []string{"INIT", op("1", `{"query":5}`)}},
		{name: "variables a string", frames: []string{"INIT", op("1", `{"query":"subscription { agendaUpdated { __typename } }","variables":"x"}`)}},
		{name: "no payload", frames: []string{"INIT", `{"type":"` + sub + `","id":"1"}`}},
		{name: "no id", frames: []string{"INIT", op("", agenda)}},
		{name: "syntax error", frames: []string{"INIT", op("1", `{"query":"subscription { agendaUpdated {"}`)}},
		{name: "unknown field", frames: []string{"INIT", op("1", `{"query":"subscription { nothing }"}`)}},
		{name: "variables of the wrong type", frames: []string{"INIT", op("1", `{"query":"subscription ($id: ID) { appointmentUpdated(id: $id) { id } }","variables":{"id":{"a":1}}}`)}},
		{name: "fragment explosion", frames: []string{"INIT", op("1", mustJSON(map[string]string{"query": strings.Replace(fragmentExplosion(40), "query {", "subscription {", 1)}))}},
		{name: "stop for an unknown id", frames: []string{"INIT", `{"type":"` + stop + `","id":"nope"}`}},
		{name: "same id twice", frames: []string{"INIT", op("1", agenda), op("1", agenda)}},
		{name: "malformed ID", frames: []string{"INIT", op("1", `{"query":"subscription { agendaUpdated(after: \"x\") { __typename } }"}`)}, field: "after"},
		{name: "malformed ID variable", frames: []string{"INIT", op("1", `{"query":"subscription ($a: ID) { agendaUpdated(after: $a) { __typename } }","variables":{"a":"-1"}}`)}, field: "after"},
		{name: "malformed nested Time", frames: []string{"INIT", op("1", nested("", `slots(from: "tomorrow") { id }`, map[string]any{}))},
			field: "from", at: "slots"},
		{name: "malformed nested Time variable", frames: []string{"INIT", op("1", nested(", $f: Time", `slots(from: $f) { id }`, map[string]any{"f": "2030-13-01T00:00:00Z"}))},
			field: "from", at: "slots"},
		{name: "malformed nested Cursor", frames: []string{"INIT", op("1", nested("", `reviews(after: "not a cursor") { pageInfo { hasNextPage } }`, map[string]any{}))},
			field: "after", at: "reviews"},
		{name: "malformed nested Cursor variable", frames: []string{"INIT", op("1", nested(", $c: Cursor", `reviews(after: $c) { pageInfo { hasNextPage } }`, map[string]any{"c": "AAAA"}))},
			field: "after", at: "reviews"},
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// wsOutcome is what the server did with a conversation: the messages it
// sent (acks and keep-alives aside) and the close code, 0 if it kept the
// socket open.
type wsOutcome struct {
	messages []apptest.Message
	close    int
}

// converse may run on a goroutine of its own: it reports a failed dial
// without stopping the test.
func converse(t *testing.T, env *apptest.Env, proto, token string, c wsCase) wsOutcome {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{proto}, HandshakeTimeout: 5 * time.Second}
	conn, _, err := d.Dial("ws"+strings.TrimPrefix(env.Server.URL, "http")+"/graphql", nil)
	if err != nil {
		t.Errorf("%s: dial: %v", c.name, err)
		return wsOutcome{close: -1}
	}
	defer conn.Close()
	kind := websocket.TextMessage
	if c.binary {
		kind = websocket.BinaryMessage
	}
	for _, f := range c.frames {
		if f == "INIT" {
			f = `{"type":"connection_init","payload":{"authorization":"Bearer ` + token + `"}}`
			if err := conn.WriteMessage(websocket.TextMessage, []byte(f)); err != nil {
				break
			}
			continue
		}
		if err := conn.WriteMessage(kind, []byte(f)); err != nil {
			break
		}
	}
	var out wsOutcome
	deadline := time.Now().Add(2 * time.Second)
	for {
		_ = conn.SetReadDeadline(deadline)
		var m apptest.Message
		_, raw, err := conn.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				out.close = ce.Code
			}
			return out
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Errorf("%s %s: a frame that is not JSON: %q", proto, c.name, raw)
			continue
		}
		switch m.Type {
		case "connection_ack", "ka", "pong":
			continue
		case "ping":
			_ = conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"pong"}`))
			continue
		}
		out.messages = append(out.messages, m)
	}
}

// checkWSOutcome fails the test unless every error the server sent
// carries a contract code and the request id. A protocol violation may
// instead end the socket with a close code that says so.
func checkWSOutcome(t *testing.T, name string, o wsOutcome) {
	t.Helper()
	switch {
	case o.close == 0, o.close == websocket.CloseNormalClosure, o.close == websocket.CloseProtocolError,
		o.close == websocket.CloseMessageTooBig, o.close >= 4400 && o.close <= 4499:
	default:
		t.Errorf("%s: closed with %d", name, o.close)
	}
	for _, m := range o.messages {
		if strings.Contains(string(m.Payload), "shutting down") {
			t.Errorf("%s: told the server is shutting down: %s", name, m.Payload)
		}
		var errs []apptest.Error
		switch m.Type {
		case "connection_error":
			if o.close == 0 {
				t.Errorf("%s: connection_error and the socket left open", name)
			}
			var one apptest.Error
			_ = json.Unmarshal(m.Payload, &one)
			errs = []apptest.Error{one}
		case "error":
			if err := json.Unmarshal(m.Payload, &errs); err != nil {
				var one apptest.Error
				_ = json.Unmarshal(m.Payload, &one)
				errs = []apptest.Error{one}
			}
		case "next", "data":
			var p struct {
				Errors []apptest.Error `json:"errors"`
			}
			_ = json.Unmarshal(m.Payload, &p)
			errs = p.Errors
		}
		for _, e := range errs {
			if !slices.Contains(contractCodes, e.Code()) {
				t.Errorf("%s: %s with code %q: %s", name, m.Type, e.Code(), m.Payload)
			}
			if id, _ := e.Extensions["requestId"].(string); id == "" {
				t.Errorf("%s: %s without a request id: %s", name, m.Type, m.Payload)
			}
		}
	}
}

// checkWSField fails the test unless the operation's one answer is
// BAD_USER_INPUT naming field (on the path ending at at, when given), on a
// socket left open.
func checkWSField(t *testing.T, name string, o wsOutcome, field, at string) {
	t.Helper()
	if o.close != 0 || len(o.messages) == 0 {
		t.Fatalf("%s: close %d, messages %+v; want an answer on an open socket", name, o.close, o.messages)
	}
	var p struct {
		Errors []apptest.Error `json:"errors"`
	}
	m := o.messages[0]
	if err := json.Unmarshal(m.Payload, &p); err != nil || len(p.Errors) != 1 ||
		p.Errors[0].Code() != "BAD_USER_INPUT" || p.Errors[0].Extensions["field"] != field ||
		at != "" && (len(p.Errors[0].Path) == 0 || p.Errors[0].Path[len(p.Errors[0].Path)-1] != at) {
		t.Errorf("%s: %s %s, want BAD_USER_INPUT on %s", name, m.Type, m.Payload, field)
	}
}

// TestEveryWebsocketRefusalSpeaksTheContract walks both websocket
// sub-protocols with malformed conversations, on two replicas: the one
// that signed the doctor in and another.
func TestEveryWebsocketRefusalSpeaksTheContract(t *testing.T) {
	a := apptest.New(t)
	b := a.Replica(t)
	token, _ := a.Doctor("Dr. Frames", "Cardiology", -23.5, -46.6)
	// An appointment requested and then accepted: resuming after the
	// request replays the acceptance.
	pat, _, _ := a.Patient("Frida")
	id := book(t, a, pat, createSlot(t, a, token, tomorrowAt(9), 30))
	var out struct{ Node struct{ LastEventID string } }
	a.Do(token, `query($id: ID!) { node(id: $id) { ... on Appointment { lastEventId } } }`, map[string]any{"id": id}).Decode(t, &out)
	a.Do(token, acceptOp, map[string]any{"id": id}).Decode(t, &struct{}{})

	// Conversations the server leaves open wait out converse's deadline:
	// all of them run at once (subtests would run two at a time on a
	// two-core machine), then each is checked as a subtest.
	type conversation struct {
		name string
		c    wsCase
		out  wsOutcome
	}
	var all []*conversation
	var wg sync.WaitGroup
	for _, proto := range protocols {
		for _, replica := range []struct {
			name string
			env  *apptest.Env
		}{{"A", a}, {"B", b}} {
			for _, c := range wsMalformed(proto, out.Node.LastEventID) {
				cv := &conversation{name: replica.name + " " + proto + " " + c.name, c: c}
				all = append(all, cv)
				wg.Add(1)
				go func() {
					defer wg.Done()
					cv.out = converse(t, replica.env, proto, token, c)
				}()
			}
		}
	}
	wg.Wait()
	for _, cv := range all {
		t.Run(cv.name, func(t *testing.T) {
			checkWSOutcome(t, cv.name, cv.out)
			if cv.c.field != "" {
				checkWSField(t, cv.name, cv.out, cv.c.field, cv.c.at)
			}
			if testing.Verbose() {
				fmt.Printf("%-60s close %d %d messages\n", cv.name, cv.out.close, len(cv.out.messages))
			}
		})
	}
	checkNoPanic(t, a)
	checkNoPanic(t, b)
}
