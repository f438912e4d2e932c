package multipart

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

var testSchema = gqlparser.MustLoadSchema(&ast.Source{Name: "test.graphqls", Input: `
scalar Upload
input Attach { note: String, file: Upload }
type Query { ok(f: Upload): Int }
type Mutation {
  one(file: Upload!, title: String): Int
  many(files: [Upload!]!): Int
  nested(in: Attach!): Int
}
`})

type signedInKey struct{}

// run serves one request and reports the answer, what the operation saw
// of its uploads, and how many body bytes the transport read.
type result struct {
	status int
	code   string
	field  string
	files  map[string]string // variable path -> content
	read   int64
}

func newTransport(t testing.TB) Transport {
	return Transport{MaxBodyBytes: 1 << 20, MaxOperationBytes: 4 << 10, MaxFiles: 3, MaxMemory: 64,
		Schema:   testSchema,
		SignedIn: func(ctx context.Context) bool { return ctx.Value(signedInKey{}) != nil },
		createFile: func() (*os.File, error) {
			return os.CreateTemp(t.TempDir(), "spool")
		}}
}

func serve(t testing.TB, tr Transport, signedIn bool, contentType string, body io.Reader) result {
	t.Helper()
	res := result{files: map[string]string{}}
	es := &graphql.ExecutableSchemaMock{
		SchemaFunc: func() *ast.Schema { return testSchema },
		ComplexityFunc: func(context.Context, string, string, int, map[string]any) (int, bool) {
			return 0, false
		},
		ExecFunc: func(ctx context.Context) graphql.ResponseHandler {
			collect(graphql.GetOperationContext(ctx).Variables, "variables", res.files)
			return graphql.OneShot(&graphql.Response{Data: []byte(`{"ok":1}`)})
		},
	}
	cr := &countingBody{r: body}
	req := httptest.NewRequest(http.MethodPost, "/graphql", cr)
	req.Header.Set("Content-Type", contentType)
	req = req.WithContext(graphql.StartOperationTrace(req.Context()))
	if signedIn {
		req = req.WithContext(context.WithValue(req.Context(), signedInKey{}, true))
	}
	w := httptest.NewRecorder()
	tr.Do(w, req, executor.New(es))
	res.status, res.read = w.Code, cr.n
	var out graphql.Response
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatalf("answer is not JSON (%v): %q", err, w.Body.String())
	}
	if len(out.Errors) > 0 {
		res.code, _ = out.Errors[0].Extensions["code"].(string)
		res.field, _ = out.Errors[0].Extensions["field"].(string)
	}
	return res
}

func collect(v any, path string, into map[string]string) {
	switch x := v.(type) {
	case graphql.Upload:
		if x.File == nil {
			into[path] = "<placeholder>"
			return
		}
		b, _ := io.ReadAll(x.File)
		into[path] = string(b)
	case map[string]any:
		for k, e := range x {
			collect(e, path+"."+k, into)
		}
	case []any:
		for i, e := range x {
			collect(e, path+"."+string(rune('0'+i)), into)
		}
	}
}

type countingBody struct {
	r io.Reader
	n int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type testPart struct{ name, file, body string }

func body(parts ...testPart) (string, *bytes.Buffer) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		var pw io.Writer
		if p.file != "" {
			pw, _ = w.CreateFormFile(p.name, p.file)
		} else {
			pw, _ = w.CreateFormField(p.name)
		}
		_, _ = io.WriteString(pw, p.body)
	}
	_ = w.Close()
	return w.FormDataContentType(), &buf
}

func ops(query string, vars string) testPart {
	return testPart{"operations", "", `{"query":` + quote(query) + `,"variables":` + vars + `}`}
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

const (
	oneOp    = `mutation($file: Upload!, $title: String) { one(file: $file, title: $title) }`
	manyOp   = `mutation($files: [Upload!]!) { many(files: $files) }`
	nestedOp = `mutation($in: Attach!) { nested(in: $in) }`
)

func TestFilesReachTheirVariables(t *testing.T) {
	tr := newTransport(t)
	big := strings.Repeat("sealed on disk ", 20) // over MaxMemory
	ct, b := body(ops(manyOp, `{"files":[null,null]}`),
		testPart{"map", "", `{"a":["variables.files.0"],"b":["variables.files.1"]}`},
		testPart{"a", "a.txt", "first"}, testPart{"b", "b.txt", big})
	r := serve(t, tr, true, ct, b)
	if r.status != http.StatusOK || r.code != "" {
		t.Fatalf("status %d code %q", r.status, r.code)
	}
	if r.files["variables.files.0"] != "first" || r.files["variables.files.1"] != big {
		t.Fatalf("files %v", r.files)
	}

	ct, b = body(ops(nestedOp, `{"in":{"note":"x","file":null}}`),
		testPart{"map", "", `{"0":["variables.in.file"]}`}, testPart{"0", "a.txt", "inside"})
	if r := serve(t, tr, true, ct, b); r.code != "" || r.files["variables.in.file"] != "inside" {
		t.Fatalf("input object: code %q files %v", r.code, r.files)
	}
}

// An anonymous caller's body is not read at all, and nothing is spooled.
func TestAnonymousUploadIsNotRead(t *testing.T) {
	tr := newTransport(t)
	tr.createFile = func() (*os.File, error) {
		t.Fatal("an anonymous upload was spooled")
		return nil, nil
	}
	ct, b := body(ops(oneOp, `{"file":null}`), testPart{"map", "", `{"0":["variables.file"]}`},
		testPart{"0", "a.pdf", strings.Repeat("x", 100_000)})
	r := serve(t, tr, false, ct, b)
	if r.status != http.StatusOK || r.code != "UNAUTHENTICATED" || r.read != 0 {
		t.Fatalf("status %d code %q, %d bytes read", r.status, r.code, r.read)
	}
}

// Oversized operations or map parts are refused having read little more
// than the cap, and before any file.
func TestOperationAndMapAreReadUnderTheCap(t *testing.T) {
	tr := newTransport(t)
	tr.createFile = func() (*os.File, error) {
		t.Fatal("a file was spooled for a refused operation")
		return nil, nil
	}
	file := testPart{"0", "a.pdf", strings.Repeat("x", 200_000)}
	huge := `{"file":null,"title":"` + strings.Repeat("a", 500_000) + `"}`
	cases := map[string][]testPart{
		"operations": {ops(oneOp, huge), {"map", "", `{"0":["variables.file"]}`}, file},
		"map":        {ops(oneOp, `{"file":null}`), {"map", "", `{"0":["variables.file"],"1":["` + strings.Repeat("x", 500_000) + `"]}`}, file},
		"operations and map together": {ops(oneOp, `{"file":null,"title":"`+strings.Repeat("a", 3000)+`"}`),
			{"map", "", `{"0":["variables.file"],"1":["` + strings.Repeat("x", 2000) + `"]}`}, file},
		"a part's headers": {{"operations", strings.Repeat("h", 500_000), "{}"}, file},
	}
	for name, parts := range cases {
		t.Run(name, func(t *testing.T) {
			ct, b := body(parts...)
			r := serve(t, tr, true, ct, b)
			if r.status != http.StatusRequestEntityTooLarge || r.code != "PAYLOAD_TOO_LARGE" {
				t.Fatalf("status %d code %q", r.status, r.code)
			}
			if r.read > tr.MaxOperationBytes+framingAllowance+4096 {
				t.Fatalf("read %d bytes of the body before refusing", r.read)
			}
		})
	}
}

func TestMapMustNameExactlyTheUploadPositions(t *testing.T) {
	tr := newTransport(t)
	tr.createFile = func() (*os.File, error) {
		t.Fatal("a file was spooled for a refused operation")
		return nil, nil
	}
	file := testPart{"0", "a.pdf", strings.Repeat("x", 200)}
	cases := []struct {
		name  string
		parts []testPart
		field string
	}{
		{"file in a String variable", []testPart{ops(oneOp, `{"file":null,"title":null}`),
			{"map", "", `{"0":["variables.file"],"1":["variables.title"]}`}, file}, "map"},
		{"file in a String field", []testPart{ops(nestedOp, `{"in":{"note":null}}`),
			{"map", "", `{"0":["variables.in.note"]}`}, file}, "map"},
		{"Upload variable holding a value", []testPart{ops(manyOp, `{"files":["junk",null]}`),
			{"map", "", `{"0":["variables.files.1"]}`}, file}, "files"},
		{"Upload field holding a value", []testPart{ops(nestedOp, `{"in":{"note":null,"file":{"a":1}}}`),
			{"map", "", `{"0":["variables.in.note"]}`}, file}, "in"},
		{"position not null in operations", []testPart{ops(oneOp, `{"file":"x"}`),
			{"map", "", `{"0":["variables.file"]}`}, file}, "map"},
		{"index into nothing", []testPart{ops(manyOp, `{"files":[]}`),
			{"map", "", `{"0":["variables.files.3"]}`}, file}, "map"},
		{"index spelled twice", []testPart{ops(manyOp, `{"files":[null]}`),
			{"map", "", `{"0":["variables.files.00"]}`}, file}, "map"},
		{"index into an object", []testPart{ops(nestedOp, `{"in":{"file":null}}`),
			{"map", "", `{"0":["variables.in.0"]}`}, file}, "map"},
		{"path named twice", []testPart{ops(oneOp, `{"file":null}`),
			{"map", "", `{"0":["variables.file"],"1":["variables.file"]}`}, file}, "map"},
		{"not a mutation", []testPart{ops(`query($f: Upload) { ok(f: $f) }`, `{"f":null}`),
			{"map", "", `{"0":["variables.f"]}`}, file}, "operations"},
		{"path outside variables", []testPart{ops(oneOp, `{"file":null}`),
			{"map", "", `{"0":["query"]}`}, file}, "map"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ct, b := body(tc.parts...)
			r := serve(t, tr, true, ct, b)
			// gqlgen's own validation of the variables catches some
			// (the error presenter makes its code BAD_USER_INPUT).
			if r.code != "BAD_USER_INPUT" && r.code != "GRAPHQL_VALIDATION_FAILED" {
				t.Fatalf("status %d code %q", r.status, r.code)
			}
			if r.field != tc.field && r.field != "" {
				t.Fatalf("field %q, want %q", r.field, tc.field)
			}
		})
	}
}

func TestFileCountIsCapped(t *testing.T) {
	tr := newTransport(t)
	parts := []testPart{ops(manyOp, `{"files":[null,null,null,null]}`),
		{"map", "", `{"0":["variables.files.0"],"1":["variables.files.1"],"2":["variables.files.2"],"3":["variables.files.3"]}`}}
	ct, b := body(parts...)
	if r := serve(t, tr, true, ct, b); r.code != "PAYLOAD_TOO_LARGE" || r.read > 8<<10 {
		t.Fatalf("four files: code %q after %d bytes", r.code, r.read)
	}
	ct, b = body(ops(manyOp, `{"files":[null,null,null,null]}`),
		testPart{"map", "", `{"0":["variables.files.0","variables.files.1","variables.files.2","variables.files.3"]}`})
	if r := serve(t, tr, true, ct, b); r.code != "PAYLOAD_TOO_LARGE" {
		t.Fatalf("one file at four paths: code %q", r.code)
	}
}

func TestBodyOverTheLimit(t *testing.T) {
	tr := newTransport(t)
	ct, b := body(ops(oneOp, `{"file":null}`), testPart{"map", "", `{"0":["variables.file"]}`},
		testPart{"0", "a.pdf", strings.Repeat("x", int(tr.MaxBodyBytes))})
	r := serve(t, tr, true, ct, b)
	if r.status != http.StatusRequestEntityTooLarge || r.code != "PAYLOAD_TOO_LARGE" || r.read > tr.MaxBodyBytes+1 {
		t.Fatalf("status %d code %q after %d bytes", r.status, r.code, r.read)
	}
}
