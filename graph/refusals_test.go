package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/healthmed/healthmed/internal/apptest"
)

// contractCodes are the codes a client's mistake may earn; INTERNAL is
// never one of them.
var contractCodes = []string{"UNAUTHENTICATED", "FORBIDDEN", "BAD_USER_INPUT", "NOT_FOUND",
	"CONFLICT", "RATE_LIMITED", "PAYLOAD_TOO_LARGE"}

// malformed is one request a careless or hostile client may send.
type malformed struct {
	name        string
	method      string
	target      string // path and query
	contentType string
	body        io.Reader
	length      int64  // -1: chunked
	status      int    // the HTTP status of the answer
	field       string // when set, the answer must be BAD_USER_INPUT on it
	signedIn    bool   // the field's check holds only for a signed-in caller
	// Anonymous callers are refused before the body is read: 200 and
	// UNAUTHENTICATED, as for any operation that needs a sign-in.
	signInFirst bool
}

func jsonCase(name, body string, status int) malformed {
	return malformed{name: "POST JSON " + name, method: http.MethodPost, target: "/graphql",
		contentType: "application/json", body: strings.NewReader(body), length: int64(len(body)), status: status}
}

func getCase(name string, q url.Values, status int) malformed {
	return malformed{name: "GET " + name, method: http.MethodGet, target: "/graphql?" + q.Encode(), length: 0, status: status}
}

func multipartCase(name string, parts [][2]string, boundary bool, status int) malformed {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		var fw io.Writer
		if p[0] == "operations" || p[0] == "map" {
			fw, _ = w.CreateFormField(p[0])
		} else {
			fw, _ = w.CreateFormFile(p[0], p[0])
		}
		_, _ = io.WriteString(fw, p[1])
	}
	_ = w.Close()
	ct := w.FormDataContentType()
	if !boundary {
		ct = "multipart/form-data"
	}
	return malformed{name: "multipart " + name, method: http.MethodPost, target: "/graphql",
		contentType: ct, body: bytes.NewReader(b.Bytes()), length: int64(b.Len()), status: status, signInFirst: true}
}

// chunked hides the length of r from the client, so the request goes out
// with Transfer-Encoding: chunked and the server learns its size late.
type chunked struct{ io.Reader }

func httpMalformed(maxBody int) []malformed {
	big := `{"query":"{ viewer { __typename } }","variables":{"pad":"` + strings.Repeat("x", maxBody) + `"}}`
	upload := `{"query":"mutation ($f: Upload!) { uploadRecordFile(file: $f, input: {title: \"x\", category: EXAM}) { id } }","variables":{"f":null}}`
	const (
		ok          = http.StatusOK // an operation that ran, its errors in the answer
		badRequest  = http.StatusBadRequest
		tooLarge    = http.StatusRequestEntityTooLarge
		badMedia    = http.StatusUnsupportedMediaType
		badMethod   = http.StatusMethodNotAllowed
		unprocessed = http.StatusUnprocessableEntity // a request no operation came of
	)
	cases := []malformed{
		jsonCase("truncated", `{"query": "{ viewer { __typ`, badRequest),
		jsonCase("empty", ``, badRequest),
		jsonCase("batched array", `[{"query":"{ viewer { __typename } }"},{"query":"{ viewer { __typename } }"}]`, badRequest),
		jsonCase("null", `null`, unprocessed),
		jsonCase("string", `"{ viewer { __typename } }"`, badRequest),
		jsonCase("query is a number", `{"query": 5}`, badRequest),
		jsonCase("variables is a string", `{"query":"{ viewer { __typename } }","variables":"x"}`, badRequest),
		jsonCase("no query", `{}`, unprocessed),
		jsonCase("blank query", `{"query":"   "}`, unprocessed),
		jsonCase("trailing garbage", `{"query":"{ viewer { __typename } }"} {"x"`, badRequest),
		jsonCase("syntax error in document", `{"query":"{ viewer { "}`, unprocessed),
		jsonCase("unknown field", `{"query":"{ nothingHere }"}`, unprocessed),
		jsonCase("unknown operation name", `{"query":"query A { viewer { __typename } }","operationName":"B"}`, unprocessed),
		jsonCase("two anonymous operations", `{"query":"{ viewer { __typename } } { viewer { __typename } }"}`, unprocessed),
		jsonCase("variable of the wrong type", `{"query":"query ($n: Int) { doctors(first: $n) { totalCount } }","variables":{"n":"many"}}`, unprocessed),
		jsonCase("missing required variable", `{"query":"query ($id: ID!) { node(id: $id) { id } }"}`, unprocessed),
		jsonCase("invalid UTF-8", "{\"query\":\"{ viewer { \xff\xfe } }\"}", unprocessed),
		jsonCase("deeply nested variables", `{"query":"{ viewer { __typename } }","variables":{"x":`+strings.Repeat("[", 5000)+strings.Repeat("]", 5000)+`}}`, badRequest),
		jsonCase("subscription", `{"query":"subscription { agendaUpdated { __typename } }"}`, unprocessed),
		jsonCase("upload without multipart", upload, unprocessed),
		{name: "POST JSON oversized, length told", method: http.MethodPost, target: "/graphql",
			contentType: "application/json", body: strings.NewReader(big), length: int64(len(big)), status: tooLarge},
		{name: "POST JSON oversized, chunked", method: http.MethodPost, target: "/graphql",
			contentType: "application/json", body: chunked{strings.NewReader(big)}, length: -1, status: tooLarge},
		{name: "POST text/plain", method: http.MethodPost, target: "/graphql",
			contentType: "text/plain", body: strings.NewReader(`{"query":"{ viewer { __typename } }"}`), length: 37, status: badMedia},
		{name: "POST without a content type", method: http.MethodPost, target: "/graphql",
			body: strings.NewReader(`{"query":"{ viewer { __typename } }"}`), length: 37, status: badMedia},
		{name: "POST form-urlencoded", method: http.MethodPost, target: "/graphql",
			contentType: "application/x-www-form-urlencoded", body: strings.NewReader("query=%7B%20viewer%20%7B%20__typename%20%7D%20%7D"), length: 49, status: badMedia},
		{name: "POST malformed content type", method: http.MethodPost, target: "/graphql",
			contentType: "application/json; charset", body: strings.NewReader(`{}`), length: 2, status: badMedia},
		{name: "PUT", method: http.MethodPut, target: "/graphql",
			contentType: "application/json", body: strings.NewReader(`{"query":"{ viewer { __typename } }"}`), length: 37, status: badMethod},
		{name: "DELETE", method: http.MethodDelete, target: "/graphql", length: 0, status: badMethod},
		getCase("mutation", url.Values{"query": {`mutation { loginDoctor(crm: "1/SP", password: "xxxxxxxxxxx") { token } }`}}, unprocessed),
		getCase("no query", url.Values{}, unprocessed),
		getCase("variables not JSON", url.Values{"query": {"{ viewer { __typename } }"}, "variables": {"{"}}, badRequest),
		getCase("extensions not JSON", url.Values{"query": {"{ viewer { __typename } }"}, "extensions": {"{"}}, badRequest),
		getCase("subscription", url.Values{"query": {"subscription { agendaUpdated { __typename } }"}}, unprocessed),
		getCase("syntax error", url.Values{"query": {"{ viewer {"}}, unprocessed),
		// Apollo's persisted-query link resends the document on this
		// answer's message, from a 200.
		getCase("unknown persisted query", url.Values{"extensions": {`{"persistedQuery":{"version":1,"sha256Hash":"00"}}`}}, ok),
		// Not malformed: a query that reads, to which no-store applies too.
		getCase("well-formed query", url.Values{"query": {"{ viewer { __typename } }"}}, ok),
		multipartCase("without boundary", [][2]string{{"operations", upload}}, false, unprocessed),
		multipartCase("no parts", nil, true, unprocessed),
		multipartCase("operations not JSON", [][2]string{{"operations", "{"}, {"map", "{}"}}, true, unprocessed),
		multipartCase("operations a batch", [][2]string{{"operations", "[" + upload + "]"}, {"map", `{"0":["0.variables.f"]}`}, {"0", "x"}}, true, unprocessed),
		multipartCase("operations nested deeply", [][2]string{{"operations", `{"query":"{ viewer { __typename } }","variables":{"x":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}}`}, {"map", `{}`}}, true, unprocessed),
		multipartCase("map not JSON", [][2]string{{"operations", upload}, {"map", "["}}, true, unprocessed),
		multipartCase("map first", [][2]string{{"map", `{"0":["variables.f"]}`}, {"operations", upload}}, true, unprocessed),
		multipartCase("file not in map", [][2]string{{"operations", upload}, {"map", `{}`}, {"0", "x"}}, true, unprocessed),
		multipartCase("file missing", [][2]string{{"operations", upload}, {"map", `{"0":["variables.f"]}`}}, true, unprocessed),
		multipartCase("map names a bad path", [][2]string{{"operations", upload}, {"map", `{"0":["variables.nothing.here"]}`}, {"0", "x"}}, true, unprocessed),
	}
	// A malformed ID, Cursor or Time value, through each HTTP transport
	// (multipart carries mutations only): BAD_USER_INPUT on the field, in
	// the answer of an operation that ran.
	for _, sc := range []struct{ name, query, vars, field string }{
		{"malformed ID", `query ($id: ID!) { node(id: $id) { id } }`, `{"id":"abc"}`, "id"},
		{"malformed Cursor", `query ($a: Cursor) { doctors(after: $a) { totalCount } }`, `{"a":"not a cursor"}`, "after"},
		{"malformed Time", `query ($f: Time) { doctors { edges { node { slots(from: $f) { id } } } } }`, `{"f":"tomorrow"}`, "from"},
	} {
		post := jsonCase(sc.name, `{"query":`+mustJSON(sc.query)+`,"variables":`+sc.vars+`}`, ok)
		get := getCase(sc.name, url.Values{"query": {sc.query}, "variables": {sc.vars}}, ok)
		post.field, get.field = sc.field, sc.field
		cases = append(cases, post, get)
	}
	withFile := multipartCase("malformed ID beside a file", [][2]string{
		{"operations", `{"query":"mutation ($f: Upload!, $id: ID!) { attachConsultationReport(appointmentId: $id, input: {}, file: $f) { id } }","variables":{"f":null,"id":"abc"}}`},
		{"map", `{"0":["variables.f"]}`}, {"0", "x"}}, true, ok)
	withFile.field, withFile.signedIn = "appointmentId", true
	// No mutation that takes a file takes a Time: this one goes as
	// multipart without one, as clients that always send multipart do.
	withTime := multipartCase("malformed Time", [][2]string{
		{"operations", `{"query":"mutation ($t: Time!) { shareRecords(input: {doctorId: \"1\", categories: [EXAM], expiresAt: $t}) { id } }","variables":{"t":"2030-02-30T10:00:00Z"}}`},
		{"map", `{}`}}, true, ok)
	withTime.field, withTime.signedIn = "input.expiresAt", true
	cases = append(cases, withFile, withTime)
	return cases
}

// checkRefusal fails the test unless every error of the answer carries a
// contract code and the request id.
func checkRefusal(t *testing.T, name string, status int, raw []byte) {
	t.Helper()
	if status >= 500 {
		t.Errorf("%s: status %d: %s", name, status, raw)
	}
	var out struct {
		Errors []apptest.Error `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Errorf("%s: status %d, answer is not JSON: %q", name, status, raw)
		return
	}
	if len(out.Errors) == 0 {
		if status >= 400 {
			t.Errorf("%s: status %d without errors: %s", name, status, raw)
		}
		return
	}
	for _, e := range out.Errors {
		if !slices.Contains(contractCodes, e.Code()) {
			t.Errorf("%s: status %d, code %q: %s", name, status, e.Code(), raw)
		}
		if id, _ := e.Extensions["requestId"].(string); id == "" {
			t.Errorf("%s: status %d, no request id: %s", name, status, raw)
		}
	}
}

// checkField fails the test unless the answer is BAD_USER_INPUT naming
// field.
func checkField(t *testing.T, name string, raw []byte, field string) {
	t.Helper()
	var out apptest.Response
	if err := json.Unmarshal(raw, &out); err != nil || out.Code() != "BAD_USER_INPUT" || out.Ext("field") != field {
		t.Errorf("%s: %s, want BAD_USER_INPUT on %s", name, raw, field)
	}
}

// checkCode fails the test unless the answer's one error has code.
func checkCode(t *testing.T, name string, raw []byte, code string) {
	t.Helper()
	var out apptest.Response
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Errors) != 1 || out.Code() != code {
		t.Errorf("%s: %s, want %s", name, raw, code)
	}
}

// checkNoPanic fails the test when the server logged a panic, or logged
// a client's mistake as an error of its own.
func checkNoPanic(t *testing.T, env *apptest.Env) {
	t.Helper()
	for _, line := range strings.Split(env.LogText(), "\n") {
		if strings.Contains(line, "panic") || strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("a client's mistake was logged as a panic or an error: %.300s", line)
		}
	}
}

// TestEveryRefusalSpeaksTheContract walks every transport with malformed
// input, anonymous and signed in as a patient and as a doctor (which gets
// past the checks made before the body is read): each answer has the status its case expects (a
// regression to 200 or 500 fails), carries a contract code and a request
// id and Cache-Control: no-store, and nothing the client did is logged as
// a panic or an error.
func TestEveryRefusalSpeaksTheContract(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled())
	pat, _, _ := env.Patient("Walker")
	// A doctor to list, whose slots(from:) reads its argument, and who may
	// subscribe to their agenda.
	doc, _ := env.Doctor("Dr. Walker", "Cardiology", -23.5, -46.6)
	for who, token := range map[string]string{"anonymous": "", "signed in": pat, "doctor": doc} {
		for _, c := range httpMalformed(env.Config.MaxBodyBytes) {
			req, err := http.NewRequest(c.method, env.Server.URL+c.target, c.body)
			if err != nil {
				t.Fatal(err)
			}
			req.ContentLength = c.length
			if c.contentType != "" {
				req.Header.Set("Content-Type", c.contentType)
			}
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			name := who + ": " + c.name
			res, err := env.Server.Client().Do(req)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			checkRefusal(t, name, res.StatusCode, raw)
			want := c.status
			if token == "" && c.signInFirst {
				want = http.StatusOK
				checkCode(t, name, raw, "UNAUTHENTICATED")
			} else if c.field != "" && (token != "" || !c.signedIn) {
				checkField(t, name, raw, c.field)
			}
			if res.StatusCode != want {
				t.Errorf("%s: status %d, want %d: %.300s", name, res.StatusCode, want, raw)
			}
			// Health data and refusals alike: no cache, shared or the
			// browser's, keeps an answer of /graphql.
			if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("%s: Cache-Control %q", name, cc)
			}
			if testing.Verbose() {
				fmt.Printf("%-55s %d %.160s\n", name, res.StatusCode, raw)
			}
		}
	}
	checkNoPanic(t, env)
}
