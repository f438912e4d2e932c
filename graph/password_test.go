package graph_test

import (
	"testing"

	"github.com/healthmed/healthmed/internal/apptest"
)

const changePasswordOp = `mutation($cur: String!, $new: String!) { changePassword(currentPassword: $cur, newPassword: $new) { token refreshToken } }`

func TestChangePassword(t *testing.T) {
	env := apptest.New(t)
	_, _, email := env.Patient("Eva")
	first, second := signIn(t, env, email), signIn(t, env, email)
	const oldPw, newPw = "correct horse battery", "a brand new passphrase"

	refused := []struct {
		name, token, cur, new, code, field string
	}{
		{"anonymous", "", oldPw, newPw, "UNAUTHENTICATED", ""},
		{"wrong current password", first.Token, "not my password", newPw, "BAD_USER_INPUT", "currentPassword"},
		{"new too short", first.Token, oldPw, "short", "BAD_USER_INPUT", "newPassword"},
		{"new same as current", first.Token, oldPw, oldPw, "BAD_USER_INPUT", "newPassword"},
	}
	for _, tc := range refused {
		r := env.Do(tc.token, changePasswordOp, map[string]any{"cur": tc.cur, "new": tc.new})
		if r.Code() != tc.code || (tc.field != "" && r.Ext("field") != tc.field) {
			t.Fatalf("%s: code %q field %v", tc.name, r.Code(), r.Ext("field"))
		}
	}
	// Nothing changed: the old password still signs in, the sign-ins live.
	signIn(t, env, email)
	if _, code := refresh(env, second.RefreshToken); code != "" {
		t.Fatalf("a refused change ended a sign-in: %q", code)
	}

	var out struct{ ChangePassword pair }
	env.Do(first.Token, changePasswordOp, map[string]any{"cur": oldPw, "new": newPw}).Decode(t, &out)
	if whoAmI(env, out.ChangePassword.Token) != email {
		t.Fatal("the new sign-in does not work")
	}
	if r := env.Do("", loginPairOp, map[string]any{"login": email, "pw": oldPw}); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("old password after the change: %q", r.Code())
	}
	if r := env.Do("", loginPairOp, map[string]any{"login": email, "pw": newPw}); r.Code() != "" {
		t.Fatalf("new password: %q", r.Code())
	}
	// Every earlier sign-in ended, access tokens included; the new one
	// did not.
	for _, p := range []pair{first, second} {
		if _, code := refresh(env, p.RefreshToken); code != "UNAUTHENTICATED" {
			t.Fatalf("an earlier sign-in survived the change: %q", code)
		}
		if whoAmI(env, p.Token) != "" {
			t.Fatal("an earlier access token survived the change")
		}
	}
	if _, code := refresh(env, out.ChangePassword.RefreshToken); code != "" {
		t.Fatalf("the new sign-in: %q", code)
	}
}

// Guessing the current password through the form is throttled like a
// login.
func TestChangePasswordGuessesAreThrottled(t *testing.T) {
	env := apptest.New(t)
	tok, _, _ := env.Patient("Fábio")
	for i := range 5 {
		if r := env.Do(tok, changePasswordOp, map[string]any{"cur": "guess number " + string(rune('a'+i)), "new": "whatever passphrase"}); r.Code() != "BAD_USER_INPUT" {
			t.Fatalf("guess %d: %q", i+1, r.Code())
		}
	}
	r := env.Do(tok, changePasswordOp, map[string]any{"cur": "correct horse battery", "new": "whatever passphrase"})
	if r.Code() != "RATE_LIMITED" {
		t.Fatalf("after five wrong guesses: %q", r.Code())
	}
}

func TestDoctorChangesPassword(t *testing.T) {
	env := apptest.New(t)
	tok, crm := env.Doctor("Dr. Senha", "Cardiology", -23.5, -46.6)
	if r := env.Do(tok, changePasswordOp, map[string]any{"cur": "correct horse battery", "new": "another long passphrase"}); r.Code() != "" {
		t.Fatalf("change: %+v", r.Errors)
	}
	if r := env.Do("", loginDoctorOp, map[string]any{"crm": crm, "pw": "another long passphrase"}); r.Code() != "" {
		t.Fatalf("login with the new password: %q", r.Code())
	}
	if r := env.Do("", loginDoctorOp, map[string]any{"crm": crm, "pw": "correct horse battery"}); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("login with the old password: %q", r.Code())
	}
}
