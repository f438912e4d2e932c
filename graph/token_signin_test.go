package graph_test

import (
	"strconv"
	"testing"

	"github.com/healthmed/healthmed/internal/apptest"
)

// TestTokenWithoutASignInIsRefused: a token signed with our own key but
// naming no sign-in could be ended by nothing short of its expiry, so it
// proves nothing, over HTTP or a websocket, on the replica that signed it
// or another.
func TestTokenWithoutASignInIsRefused(t *testing.T) {
	a := apptest.New(t)
	b := a.Replica(t)
	pat, _, _ := a.Patient("Sina")
	id := atoi(t, viewerID(t, a, pat))
	bare, _, err := a.App.Issuer.Issue(strconv.Itoa(id), "patient")
	if err != nil {
		t.Fatal(err)
	}
	withSignIn, _, err := a.App.Issuer.IssueSession(strconv.Itoa(id), "patient", "some-sign-in")
	if err != nil {
		t.Fatal(err)
	}
	for name, env := range map[string]*apptest.Env{"A": a, "B": b} {
		if r := env.Do(bare, `{ viewer { __typename } }`, nil); r.Status != 200 || r.Code() != "UNAUTHENTICATED" || r.Ext("reason") != "TOKEN_INVALID" {
			t.Fatalf("%s: token without a sign-in: status %d code %q", name, r.Status, r.Code())
		}
		for _, proto := range protocols {
			refusedAtInit(t, env, name+" "+proto, proto, bare)
		}
		if r := env.Do(withSignIn, `{ viewer { __typename } }`, nil); r.Code() != "" {
			t.Fatalf("%s: token of a sign-in: %+v", name, r.Errors)
		}
	}
}
