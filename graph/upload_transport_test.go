package graph_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/healthmed/healthmed/internal/apptest"
)

type part struct{ name, file, body string }

func postParts(t *testing.T, env *apptest.Env, token string, parts []part) (int, map[string]any) {
	t.Helper()
	body, contentType := multipartBody(t, parts)
	return postBody(t, env, token, body, contentType)
}

func multipartBody(t *testing.T, parts []part) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		var err error
		var pw interface{ Write([]byte) (int, error) }
		if p.file != "" {
			pw, err = w.CreateFormFile(p.name, p.file)
		} else {
			pw, err = w.CreateFormField(p.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		_, _ = pw.Write([]byte(p.body))
	}
	_ = w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

func postBody(t *testing.T, env *apptest.Env, token string, body []byte, contentType string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, env.Server.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("status %d, body not JSON: %v", res.StatusCode, err)
	}
	return res.StatusCode, out
}

// Malformed multipart requests are refused with the contract's code and
// store nothing.
func TestMultipartProtocolErrors(t *testing.T) {
	env := apptest.New(t)
	alice, _, _ := env.Patient("Alice")
	ops, _ := json.Marshal(map[string]any{"query": uploadOp, "variables": map[string]any{
		"file": nil, "in": map[string]any{"title": "Exame", "category": "EXAM", "tags": []string{}}}})
	file := part{"0", "a.pdf", string(pdf(100))}
	cases := []struct {
		name  string
		parts []part
	}{
		{"map before operations", []part{{"map", "", `{"0":["variables.file"]}`}, {"operations", "", string(ops)}, file}},
		{"operations not JSON", []part{{"operations", "", "{"}, {"map", "", `{"0":["variables.file"]}`}, file}},
		{"no map", []part{{"operations", "", string(ops)}, file}},
		{"map not an object of paths", []part{{"operations", "", string(ops)}, {"map", "", `["variables.file"]`}, file}},
		{"file missing from map", []part{{"operations", "", string(ops)}, {"map", "", `{"1":["variables.file"]}`}, file}},
		{"file named in map missing", []part{{"operations", "", string(ops)}, {"map", "", `{"0":["variables.file"]}`}}},
		{"map path into nothing", []part{{"operations", "", string(ops)}, {"map", "", `{"0":["variables.nope.deeper"]}`}, file}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, out := postParts(t, env, alice, tc.parts)
			errs, _ := out["errors"].([]any)
			if status != http.StatusUnprocessableEntity || len(errs) != 1 {
				t.Fatalf("status %d, body %v", status, out)
			}
			ext, _ := errs[0].(map[string]any)["extensions"].(map[string]any)
			if ext["code"] != "BAD_USER_INPUT" || ext["requestId"] == "" || ext["requestId"] == nil {
				t.Fatalf("extensions %v", ext)
			}
		})
	}
	if n := storedObjects(t, env); n != 0 {
		t.Fatalf("%d files stored", n)
	}
	// The same parts in order do upload.
	status, out := postParts(t, env, alice, []part{{"operations", "", string(ops)}, {"map", "", `{"0":["variables.file"]}`}, file})
	if status != http.StatusOK || out["errors"] != nil || storedObjects(t, env) != 1 {
		t.Fatalf("well-formed upload: status %d, %v", status, out)
	}
}
