package graph_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/healthmed/healthmed/internal/apptest"
)

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

func decodeJSON(res *http.Response, v any) error { return json.NewDecoder(res.Body).Decode(v) }

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// postAs sends one GraphQL operation to a server that is not an Env's.
func postAs(t *testing.T, base, token, query string, vars map[string]any) apptest.Response {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return apptest.Response{Errors: []apptest.Error{{Message: err.Error(), Extensions: map[string]any{"code": "TRANSPORT"}}}}
	}
	defer res.Body.Close()
	var out apptest.Response
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		out.Errors = []apptest.Error{{Message: err.Error(), Extensions: map[string]any{"code": "NOT_JSON"}}}
	}
	return out
}
