package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/healthmed/healthmed/internal/scalar"
	"github.com/healthmed/healthmed/internal/seed"
	"github.com/healthmed/healthmed/internal/validate"
)

// attack is one kind of hostile request. reps, when set, is how many
// times it runs whatever the command line says.
// units, when set, is how many requests one run makes (messages on one
// socket): CPU is reported per request. signedIn attacks come from the
// demo patient, signed in before the measurement starts; prepare, when
// set, runs before it too. timed attacks are judged by how soon the
// server gives up on them, not by their CPU.
type attack struct {
	name     string
	reps     int
	units    int
	signedIn bool
	timed    bool
	prepare  func(ctx context.Context, c *client) error
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
		{name: "cursor-bomb-multipart-3MB", reps: 10, do: func(_ context.Context, c *client, _ int) (string, error) {
			ops, _ := json.Marshal(map[string]any{"query": doctorsAfter, "variables": map[string]any{"c": nestedCursor(2_400_000)}})
			ct, body := multipartBody(string(ops), "{}", 0, 0)
			return c.postMultipart("", ct, body)
		}},
		{name: "cursor-infinite-distance", do: func(_ context.Context, c *client, _ int) (string, error) {
			return c.post("", `query($c: Cursor) { doctors(near: {lat: -23.55, lng: -46.63}, withinKm: 10, first: 5, after: $c) { edges { cursor } } }`,
				map[string]any{"c": scalar.EncodeCursor(scalar.Cursor{ID: 1, Value: math.Inf(1)})})
		}},
		{name: "cursor-bomb-6-concurrent", reps: 5, units: 6, do: func(_ context.Context, c *client, _ int) (string, error) {
			return concurrently(6, func() (string, error) {
				return c.post("", doctorsAfter, map[string]any{"c": nestedCursor(180_000)})
			})
		}},
		{name: "fragment-explosion-22", reps: 2, do: func(_ context.Context, c *client, _ int) (string, error) {
			return c.post("", fragmentBomb(22), nil)
		}},
		// One field ~1,000 times, each document new (a trailing space per
		// request, so no cached validation): validation compared every pair.
		{name: "repeated-field-990", reps: 10, do: func(_ context.Context, c *client, i int) (string, error) {
			return c.post("", "{ "+strings.Repeat("__typename ", 990)+"}"+strings.Repeat(" ", i), nil)
		}},
		{name: "deep-json-variables", do: func(_ context.Context, c *client, _ int) (string, error) {
			depth := 120_000
			body := `{"query":"query($c: Cursor){ doctors(after: $c) { edges { cursor } } }","variables":{"c":` +
				strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}}`
			return c.postBody("", []byte(body))
		}},
		{name: "multipart-6MB-variables", reps: 10, do: func(_ context.Context, c *client, _ int) (string, error) {
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
		{name: "upload-200-files", reps: 10, signedIn: true, do: func(_ context.Context, c *client, _ int) (string, error) {
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
		{name: "subscriptions-per-account-6-sockets", reps: 1, units: 6 * perSocket, signedIn: true, do: func(ctx context.Context, c *client, _ int) (string, error) {
			return accountSubscriptions(ctx, c, patientToken(c), 6)
		}},
		{name: "resume-replay-flood", reps: 1, units: perSocket - 1, prepare: prepareReplay, do: func(ctx context.Context, c *client, _ int) (string, error) {
			return replayFlood(ctx, c, perSocket-1)
		}},
		{name: "create-slots-10-years-ahead", reps: 10, prepare: signInDoctor, do: func(_ context.Context, c *client, _ int) (string, error) {
			start := time.Now().UTC().Truncate(time.Hour).AddDate(10, 0, 0)
			in := make([]map[string]string, 200)
			for i := range in {
				s := start.Add(time.Duration(i) * 10 * time.Minute)
				in[i] = map[string]string{"startsAt": s.Format(time.RFC3339), "endsAt": s.Add(10 * time.Minute).Format(time.RFC3339)}
			}
			return c.post(doctorToken(c), `mutation($in: [SlotInput!]!) { createSlots(input: $in) { id } }`, map[string]any{"in": in})
		}},
		{name: "slow-headers-40s", reps: 1, timed: true, do: func(_ context.Context, c *client, _ int) (string, error) {
			return slowHeaders(c, 40*time.Second)
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

// The first demo doctor the seed creates.
const demoDoctorCRM = "100001/SP"

// concurrently sends n copies of one request at once and reports the
// first failure's answer, or else the last one's.
func concurrently(n int, do func() (string, error)) (string, error) {
	answers, errs := make([]string, n), make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i], errs[i] = do()
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return answers[i], err
		}
	}
	return answers[n-1], nil
}

// tokens holds each demo account's token per server, signed in once.
var tokens = map[string]string{}

// signIn runs a demo account's login mutation once per server and keeps
// its token ("" when the sign-in failed).
func signIn(c *client, mutation, login, password string) string {
	key := c.base + " " + login
	if t, ok := tokens[key]; ok {
		return t
	}
	var out map[string]struct{ Token string }
	if err := c.data("", mutation, map[string]any{"l": login, "p": password}, &out); err != nil {
		return ""
	}
	for _, v := range out {
		tokens[key] = v.Token
	}
	return tokens[key]
}

// doctorToken signs the demo doctor in once per server.
func doctorToken(c *client) string {
	return signIn(c, `mutation($l: String!, $p: String!) { loginDoctor(crm: $l, password: $p) { token } }`,
		demoDoctorCRM, seed.DemoDoctorPassword)
}

func signInDoctor(_ context.Context, c *client) error {
	if doctorToken(c) == "" {
		return errors.New("the demo doctor could not sign in")
	}
	return nil
}

// patientToken signs the demo patient in once per server.
func patientToken(c *client) string {
	return signIn(c, `mutation($l: String!, $p: String!) { loginPatient(login: $l, password: $p) { token } }`,
		demoPatient, seed.DemoPatientPassword)
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

// slowHeaders sends a request's headers one byte a second and reports
// how long the server let them trickle.
func slowHeaders(c *client, limit time.Duration) (string, error) {
	host := strings.TrimPrefix(c.base, "http://")
	conn, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	answered := make(chan string, 1)
	go func() {
		buf := make([]byte, 512)
		n, _ := conn.Read(buf)
		answered <- strings.SplitN(string(buf[:n]), "\r\n", 2)[0]
	}()
	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: %s\r\nX-Slow: ", host)
	start := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for time.Since(start) < limit {
		select {
		case status := <-answered:
			if status == "" {
				return fmt.Sprintf("cut after %.0f s", time.Since(start).Seconds()), nil
			}
			return fmt.Sprintf("%q after %.0f s", status, time.Since(start).Seconds()), nil
		case <-tick.C:
			if _, err := conn.Write([]byte("a")); err != nil {
				return fmt.Sprintf("cut after %.0f s", time.Since(start).Seconds()), nil
			}
		}
	}
	return fmt.Sprintf("still reading after %.0f s", limit.Seconds()), errors.New("trickled headers were still read")
}
