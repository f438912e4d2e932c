package graph_test

import (
	"strconv"
	"testing"

	"github.com/healthmed/healthmed/internal/apptest"
)

// TestTokenWithoutASignInIsRefused: a token signed with our own key but
// naming no sign-in could be ended by nothing short of its expiry, so it
// proves nothing, over HTTP or a websocket.
func TestTokenWithoutASignInIsRefused(t *testing.T) {
	env := apptest.New(t)
	pat, _, _ := env.Patient("Sina")
	id := atoi(t, viewerID(t, env, pat))
	bare, _, err := env.App.Issuer.Issue(strconv.Itoa(id), "patient")
	if err != nil {
		t.Fatal(err)
	}
	if r := env.Do(bare, `{ viewer { __typename } }`, nil); r.Status != 200 || r.Code() != "UNAUTHENTICATED" || r.Ext("reason") != "TOKEN_INVALID" {
		t.Fatalf("token without a sign-in: status %d code %q", r.Status, r.Code())
	}
	for _, proto := range protocols {
		refusedAtInit(t, env, proto, proto, bare)
	}
	withSignIn, _, err := env.App.Issuer.IssueSession(strconv.Itoa(id), "patient", "some-sign-in")
	if err != nil {
		t.Fatal(err)
	}
	if r := env.Do(withSignIn, `{ viewer { __typename } }`, nil); r.Code() != "" {
		t.Fatalf("token of a sign-in: %+v", r.Errors)
	}
}
