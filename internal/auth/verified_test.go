package auth

import (
	"context"
	"testing"
	"time"
)

// A token verified once is taken from memory afterwards, but only until
// it expires, and a token differing from it in any byte is verified
// afresh.
func TestVerifiedTokensAreRememberedUntilTheyExpire(t *testing.T) {
	keys, err := GenerateKeySet()
	if err != nil {
		t.Fatal(err)
	}
	now := testNow
	clock := func() time.Time { return now }
	v, err := NewVerifier(context.Background(), VerifierConfig{Issuer: testIssuer, Audience: testAudience, Keys: keys, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	tok, exp, err := NewIssuer(IssuerConfig{IssuerURL: testIssuer, Audience: testAudience, Now: clock}, keys).
		IssueSession("7", RolePatient, "sign-in-7")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		id, err := v.Verify(context.Background(), tok)
		if err != nil || id.Subject != "7" || id.Role != RolePatient || id.SessionID != "sign-in-7" || !id.ExpiresAt.Equal(exp) {
			t.Fatalf("verification %d: %+v, %v", i+1, id, err)
		}
	}
	if len(v.verified) != 1 {
		t.Fatalf("%d tokens remembered, want 1", len(v.verified))
	}
	tampered := tok[:len(tok)-2] + map[bool]string{true: "AA", false: "BB"}[tok[len(tok)-2:] != "AA"]
	if _, err := v.Verify(context.Background(), tampered); err == nil {
		t.Fatal("a token with another signature was accepted")
	}
	now = exp.Add(time.Second)
	if _, err := v.Verify(context.Background(), tok); err == nil {
		t.Fatal("a remembered token was accepted after it expired")
	}
}
