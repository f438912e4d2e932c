package graph_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/healthmed/healthmed/internal/apptest"
)

// Arguments that do not coerce, and persisted queries whose hash does not
// match, are the client's mistakes: BAD_USER_INPUT, nothing logged as an
// error (both read INTERNAL before).
func TestUncoercibleRequestsAreBadInput(t *testing.T) {
	env := apptest.New(t)
	pat, _, _ := env.Patient("Rui")
	r := env.Do(pat, `mutation { cancelAppointment(id: "abc", reason: "x") { id } }`, nil)
	if r.Code() != "BAD_USER_INPUT" || r.Ext("field") != "id" {
		t.Fatalf("non-numeric id: %+v", r.Errors)
	}
	body, _ := json.Marshal(map[string]any{"query": "{ viewer { __typename } }",
		"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": "00"}}})
	req, _ := http.NewRequest(http.MethodPost, env.Server.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	res, err := env.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out apptest.Response
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || out.Code() != "BAD_USER_INPUT" {
		t.Fatalf("mismatched persisted query hash: %+v (%v)", out.Errors, err)
	}
	if strings.Contains(env.LogText(), `"level":"ERROR"`) {
		t.Fatalf("logged as an error:\n%s", env.LogText())
	}
}
