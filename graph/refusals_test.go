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
	field       string // when set, the answer must be BAD_USER_INPUT on it
	signedIn    bool   // the field's check holds only for a signed-in caller
}

func jsonCase(name, body string) malformed {
	return malformed{name: "POST JSON " + name, method: http.MethodPost, target: "/graphql",
		contentType: "application/json", body: strings.NewReader(body), length: int64(len(body))}
}

func getCase(name string, q url.Values) malformed {
	return malformed{name: "GET " + name, method: http.MethodGet, target: "/graphql?" + q.Encode(), length: 0}
}

func multipartCase(name string, parts [][2]string, boundary bool) malformed {
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
		contentType: ct, body: bytes.NewReader(b.Bytes()), length: int64(b.Len())}
}

// chunked hides the length of r from the client, so the request goes out
// with Transfer-Encoding: chunked and the server learns its size late.
type chunked struct{ io.Reader }

func httpMalformed(maxBody int) []malformed {
	big := `{"query":"{ viewer { __typename } }","variables":{"pad":"` + strings.Repeat("x", maxBody) + `"}}`
	upload := `{"query":"mutation ($f: Upload!) { uploadRecordFile(file: $f, input: {title: \"x\", category: EXAM}) { id } }","variables":{"f":null}}`
	cases := []malformed{
		jsonCase("truncated", `{"query": "{ viewer { __typ`),
		jsonCase("empty", ``),
		jsonCase("batched array", `[{"query":"{ viewer { __typename } }"},{"query":"{ viewer { __typename } }"}]`),
		jsonCase("null", `null`),
		jsonCase("string", `"{ viewer { __typename } }"`),
		jsonCase("query is a number", `{"query": 5}`),
		jsonCase("variables is a string", `{"query":"{ viewer { __typename } }","variables":"x"}`),
		jsonCase("no query", `{}`),
		jsonCase("blank query", `{"query":"   "}`),
		jsonCase("trailing garbage", `{"query":"{ viewer { __typename } }"} {"x"`),
		jsonCase("syntax error in document", `{"query":"{ viewer { "}`),
		jsonCase("unknown field", `{"query":"{ nothingHere }"}`),
		jsonCase("unknown operation name", `{"query":"query A { viewer { __typename } }","operationName":"B"}`),
		jsonCase("two anonymous operations", `{"query":"{ viewer { __typename } } { viewer { __typename } }"}`),
		jsonCase("variable of the wrong type", `{"query":"query ($n: Int) { doctors(first: $n) { totalCount } }","variables":{"n":"many"}}`),
		jsonCase("missing required variable", `{"query":"query ($id: ID!) { node(id: $id) { id } }"}`),
		jsonCase("invalid UTF-8", "{\"query\":\"{ viewer { \xff\xfe } }\"}"),
		jsonCase("deeply nested variables", `{"query":"{ viewer { __typename } }","variables":{"x":`+strings.Repeat("[", 5000)+strings.Repeat("]", 5000)+`}}`),
		jsonCase("subscription", `{"query":"subscription { agendaUpdated { __typename } }"}`),
		jsonCase("upload without multipart", upload),
		{name: "POST JSON oversized, length told", method: http.MethodPost, target: "/graphql",
			contentType: "application/json", body: strings.NewReader(big), length: int64(len(big))},
		{name: "POST JSON oversized, chunked", method: http.MethodPost, target: "/graphql",
			contentType: "application/json", body: chunked{strings.NewReader(big)}, length: -1},
		{name: "POST text/plain", method: http.MethodPost, target: "/graphql",
			contentType: "text/plain", body: strings.NewReader(`{"query":"{ viewer { __typename } }"}`), length: 37},
		{name: "POST without a content type", method: http.MethodPost, target: "/graphql",
			body: strings.NewReader(`{"query":"{ viewer { __typename } }"}`), length: 37},
		{name: "POST form-urlencoded", method: http.MethodPost, target: "/graphql",
			contentType: "application/x-www-form-urlencoded", body: strings.NewReader("query=%7B%20viewer%20%7B%20__typename%20%7D%20%7D"), length: 49},
		{name: "POST malformed content type", method: http.MethodPost, target: "/graphql",
			contentType: "application/json; charset", body: strings.NewReader(`{}`), length: 2},
		{name: "PUT", method: http.MethodPut, target: "/graphql",
			contentType: "application/json", body: strings.NewReader(`{"query":"{ viewer { __typename } }"}`), length: 37},
		{name: "DELETE", method: http.MethodDelete, target: "/graphql", length: 0},
		getCase("mutation", url.Values{"query": {`mutation { loginDoctor(crm: "1/SP", password: "xxxxxxxxxxx") { token } }`}}),
		getCase("no query", url.Values{}),
		getCase("variables not JSON", url.Values{"query": {"{ viewer { __typename } }"}, "variables": {"{"}}),
		getCase("extensions not JSON", url.Values{"query": {"{ viewer { __typename } }"}, "extensions": {"{"}}),
		getCase("subscription", url.Values{"query": {"subscription { agendaUpdated { __typename } }"}}),
		getCase("syntax error", url.Values{"query": {"{ viewer {"}}),
		getCase("unknown persisted query", url.Values{"extensions": {`{"persistedQuery":{"version":1,"sha256Hash":"00"}}`}}),
		multipartCase("without boundary", [][2]string{{"operations", upload}}, false),
		multipartCase("no parts", nil, true),
		multipartCase("operations not JSON", [][2]string{{"operations", "{"}, {"map", "{}"}}, true),
		multipartCase("operations a batch", [][2]string{{"operations", "[" + upload + "]"}, {"map", `{"0":["0.variables.f"]}`}, {"0", "x"}}, true),
		multipartCase("operations nested deeply", [][2]string{{"operations", `{"query":"{ viewer { __typename } }","variables":{"x":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}}`}, {"map", `{}`}}, true),
		multipartCase("map not JSON", [][2]string{{"operations", upload}, {"map", "["}}, true),
		multipartCase("map first", [][2]string{{"map", `{"0":["variables.f"]}`}, {"operations", upload}}, true),
		multipartCase("file not in map", [][2]string{{"operations", upload}, {"map", `{}`}, {"0", "x"}}, true),
		multipartCase("file missing", [][2]string{{"operations", upload}, {"map", `{"0":["variables.f"]}`}}, true),
		multipartCase("map names a bad path", [][2]string{{"operations", upload}, {"map", `{"0":["variables.nothing.here"]}`}, {"0", "x"}}, true),
	}
	// A malformed ID, Cursor or Time value, through each HTTP transport
	// (multipart carries mutations only): BAD_USER_INPUT on the field.
	for _, sc := range []struct{ name, query, vars, field string }{
		{"malformed ID", `query ($id: ID!) { node(id: $id) { id } }`, `{"id":"abc"}`, "id"},
		{"malformed Cursor", `query ($a: Cursor) { doctors(after: $a) { totalCount } }`, `{"a":"not a cursor"}`, "after"},
		{"malformed Time", `query ($f: Time) { doctors { edges { node { slots(from: $f) { id } } } } }`, `{"f":"tomorrow"}`, "from"},
	} {
		post := jsonCase(sc.name, `{"query":`+mustJSON(sc.query)+`,"variables":`+sc.vars+`}`)
		get := getCase(sc.name, url.Values{"query": {sc.query}, "variables": {sc.vars}})
		post.field, get.field = sc.field, sc.field
		cases = append(cases, post, get)
	}
	withFile := multipartCase("malformed ID beside a file", [][2]string{
		{"operations", `{"query":"mutation ($f: Upload!, $id: ID!) { attachConsultationReport(appointmentId: $id, input: {}, file: $f) { id } }","variables":{"f":null,"id":"abc"}}`},
		{"map", `{"0":["variables.f"]}`}, {"0", "x"}}, true)
	withFile.field, withFile.signedIn = "appointmentId", true
	cases = append(cases, withFile)
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
// input, anonymous and signed in (which gets past the checks made before
// the body is read): each answer carries a contract code and a request
// id, none is a 500, and nothing the client did is logged as a panic or
// an error.
func TestEveryRefusalSpeaksTheContract(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled())
	pat, _, _ := env.Patient("Walker")
	// A doctor to list, whose slots(from:) reads its argument.
	env.Doctor("Dr. Walker", "Cardiology", -23.5, -46.6)
	for who, token := range map[string]string{"anonymous": "", "signed in": pat} {
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
			if c.field != "" && (token != "" || !c.signedIn) {
				checkField(t, name, raw, c.field)
			}
			if testing.Verbose() {
				fmt.Printf("%-55s %d %.160s\n", name, res.StatusCode, raw)
			}
		}
	}
	checkNoPanic(t, env)
}
