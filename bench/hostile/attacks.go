package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/healthmed/healthmed/internal/seed"
	"github.com/healthmed/healthmed/internal/validate"
)

// attack is one kind of hostile request. reps, when set, is how many
// times it runs whatever the command line says.
// units, when set, is how many requests one run makes (messages on one
// socket): CPU is reported per request. signedIn attacks come from the
// demo patient, signed in before the measurement starts. timed attacks
// are judged by how soon the server gives up on them, not by their CPU.
type attack struct {
	name     string
	reps     int
	units    int
	signedIn bool
	timed    bool
	do       func(ctx context.Context, c *client, i int) (string, error)
}

const doctorsAfter = `query($c: Cursor) { doctors(first: 5, after: $c) { edges { cursor } } }`

const upload = `mutation($f: Upload!, $in: RecordFileInput!) { uploadRecordFile(file: $f, input: $in) { id } }`

// The demo patient the seed creates.
const demoPatient = "maria@demo.healthmed.dev"

func attacks() []attack {
	return []attack{
		{name: "cursor-bomb-250KB", reps: 30, do: func(_ context.Context, c *client, _ int) (string, error) {
			return c.post("", doctorsAfter, map[string]any{"c": nestedCursor(180_000)})
		}},
		{name: "cursor-bomb-multipart-3MB", reps: 3, do: func(_ context.Context, c *client, _ int) (string, error) {
			ops, _ := json.Marshal(map[string]any{"query": doctorsAfter, "variables": map[string]any{"c": nestedCursor(2_400_000)}})
			ct, body := multipartBody(string(ops), "{}", 0, 0)
			return c.postMultipart("", ct, body)
		}},
		{name: "cursor-infinite-distance", do: func(_ context.Context, c *client, _ int) (string, error) {
			return c.post("", `query($c: Cursor) { doctors(near: {lat: -23.55, lng: -46.63}, withinKm: 10, first: 5, after: $c) { edges { cursor } } }`,
				map[string]any{"c": infiniteCursor()})
		}},
		{name: "fragment-explosion-22", reps: 2, do: func(_ context.Context, c *client, _ int) (string, error) {
			return c.post("", fragmentBomb(22), nil)
		}},
		{name: "deep-json-variables", do: func(_ context.Context, c *client, _ int) (string, error) {
			depth := 120_000
			body := `{"query":"query($c: Cursor){ doctors(after: $c) { edges { cursor } } }","variables":{"c":` +
				strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}}`
			return c.postBody("", []byte(body))
		}},
		{name: "multipart-6MB-variables", reps: 3, do: func(_ context.Context, c *client, _ int) (string, error) {
			tags := make([]string, 1_000_000)
			for i := range tags {
				tags[i] = "tag"
			}
			ops, _ := json.Marshal(map[string]any{"query": upload, "variables": map[string]any{
				"f": nil, "in": map[string]any{"title": "x", "category": "OTHER", "tags": tags}}})
			ct, body := multipartBody(string(ops), `{"0":["variables.f"]}`, 1, 1024)
			return c.postMultipart("", ct, body)
		}},
		{name: "anonymous-upload-20MiB", reps: 3, do: func(_ context.Context, c *client, _ int) (string, error) {
			ops, _ := json.Marshal(map[string]any{"query": upload, "variables": map[string]any{
				"f": nil, "in": map[string]any{"title": "x", "category": "OTHER", "tags": []string{}}}})
			ct, body := multipartBody(string(ops), `{"0":["variables.f"]}`, 1, 20<<20)
			return c.postMultipart("", ct, body)
		}},
		{name: "upload-200-files", reps: 3, signedIn: true, do: func(_ context.Context, c *client, _ int) (string, error) {
			ops, _ := json.Marshal(map[string]any{"query": upload, "variables": map[string]any{
				"f": nil, "in": map[string]any{"title": "x", "category": "OTHER", "tags": []string{}}}})
			m := map[string][]string{}
			for i := 0; i < 200; i++ {
				m[fmt.Sprint(i)] = []string{"variables.f"}
			}
			mb, _ := json.Marshal(m)
			ct, body := multipartBody(string(ops), string(mb), 200, 1024)
			return c.postMultipart(patientToken(c), ct, body)
		}},
		{name: "register-15-aliases", do: func(_ context.Context, c *client, i int) (string, error) {
			return c.post("", registrationAliases(i, 15), nil)
		}},
		{name: "deactivate-wrong-password", reps: 60, signedIn: true, do: func(_ context.Context, c *client, _ int) (string, error) {
			return c.post(patientToken(c), `mutation { deactivateAccount(password: "not the password") }`, nil)
		}},
		{name: "subscriptions-5000-one-socket", reps: 1, units: 5000, signedIn: true, do: func(ctx context.Context, c *client, _ int) (string, error) {
			return manySubscriptions(ctx, c, patientToken(c), 5000)
		}},
		{name: "slow-body-40s", reps: 1, timed: true, do: func(_ context.Context, c *client, _ int) (string, error) {
			return slowBody(c, 40*time.Second)
		}},
	}
}

// nestedCursor is an entgql cursor whose value is an array nested depth
// times: msgpack {"i": 1, "v": [[[...nil...]]]}.
func nestedCursor(depth int) string {
	b := []byte{0x82, 0xa1, 'i', 0x01, 0xa1, 'v'}
	b = append(b, bytes.Repeat([]byte{0x91}, depth)...)
	b = append(b, 0xc0)
	return base64.RawStdEncoding.EncodeToString(b)
}

// infiniteCursor is a well-formed entgql cursor whose distance is +Inf.
func infiniteCursor() string {
	b := []byte{0x82, 0xa1, 'i', 0x01, 0xa1, 'v', 0xcb}
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(math.Inf(1)))
	return base64.RawStdEncoding.EncodeToString(b)
}

// fragmentBomb is a document whose fragment F<n> spreads F<n-1> twice: a
// walker that does not remember fragments visits 2^n fields.
func fragmentBomb(levels int) string {
	var sb strings.Builder
	sb.WriteString("query { ...F" + fmt.Sprint(levels) + " }\nfragment F0 on Query { __typename }\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&sb, "fragment F%d on Query { ...F%d ...F%d }\n", i, i-1, i-1)
	}
	return sb.String()
}

func registrationAliases(round, n int) string {
	var sb strings.Builder
	sb.WriteString("mutation {")
	for k := 0; k < n; k++ {
		seq := round*n + k
		cpf := validate.CompleteCPF(fmt.Sprintf("%09d", 300000000+seq*7919%600000000))
		fmt.Fprintf(&sb, ` r%d: registerPatient(input: {name: "Flood %d", email: "flood%d@example.com", cpf: %q, password: "flood password %d"}) { token }`,
			k, seq, seq, cpf, seq)
	}
	sb.WriteString(" }")
	return sb.String()
}

var patientTokens = map[string]string{}

// patientToken signs the demo patient in once per server.
func patientToken(c *client) string {
	if t, ok := patientTokens[c.base]; ok {
		return t
	}
	var out struct{ LoginPatient struct{ Token string } }
	err := c.data("", `mutation($l: String!, $p: String!) { loginPatient(login: $l, password: $p) { token } }`,
		map[string]any{"l": demoPatient, "p": seed.DemoPatientPassword}, &out)
	if err != nil {
		return ""
	}
	patientTokens[c.base] = out.LoginPatient.Token
	return out.LoginPatient.Token
}

// manySubscriptions opens one graphql-transport-ws socket and subscribes
// n times, then reads what comes back for a moment.
func manySubscriptions(ctx context.Context, c *client, token string, n int) (string, error) {
	url := "ws" + strings.TrimPrefix(c.base, "http") + "/graphql"
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 5 * time.Second}
	conn, _, err := d.DialContext(ctx, url, nil)
	if err != nil {
		return "no socket", err
	}
	defer conn.Close()
	if err := conn.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"authorization": "Bearer " + token}}); err != nil {
		return "", err
	}
	var ack struct{ Type string }
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := conn.ReadJSON(&ack); err != nil || ack.Type != "connection_ack" {
		return "no ack", fmt.Errorf("connection_init: %v %q", err, ack.Type)
	}
	for i := 0; i < n; i++ {
		if err := conn.WriteJSON(map[string]any{"id": fmt.Sprint(i), "type": "subscribe",
			"payload": map[string]any{"query": "subscription { appointmentUpdated { id } }"}}); err != nil {
			return fmt.Sprintf("socket closed after %d subscribes", i), nil
		}
	}
	errorsSeen := 0
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	for {
		var m struct {
			Type    string
			Payload json.RawMessage
		}
		if err := conn.ReadJSON(&m); err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return fmt.Sprintf("closed %d after %d errors", ce.Code, errorsSeen), nil
			}
			return fmt.Sprintf("%d of %d refused", errorsSeen, n), nil
		}
		if m.Type == "error" || (m.Type == "next" && bytes.Contains(m.Payload, []byte(`"errors"`))) {
			errorsSeen++
		}
	}
}

// slowBody sends a request body one byte a second and reports how long
// the server let it trickle.
func slowBody(c *client, limit time.Duration) (string, error) {
	host := strings.TrimPrefix(c.base, "http://")
	conn, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	body := `{"query":"{ __typename }"}` + strings.Repeat(" ", 30)
	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", host, len(body))
	start := time.Now()
	for i := 0; i < len(body) && time.Since(start) < limit; i++ {
		if _, err := conn.Write([]byte{body[i]}); err != nil {
			return fmt.Sprintf("cut after %.0f s", time.Since(start).Seconds()), nil
		}
		time.Sleep(time.Second)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 512)
	n, _ := conn.Read(buf)
	status := strings.SplitN(string(buf[:n]), "\r\n", 2)[0]
	if status == "" {
		return fmt.Sprintf("cut after %.0f s", time.Since(start).Seconds()), nil
	}
	if strings.Contains(status, fmt.Sprint(http.StatusOK)) {
		return fmt.Sprintf("answered %q after %.0f s", status, time.Since(start).Seconds()), errors.New("a trickled body was served")
	}
	return fmt.Sprintf("%q after %.0f s", status, time.Since(start).Seconds()), nil
}
