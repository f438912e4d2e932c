package graph_test

import (
	"testing"

	"github.com/healthmed/healthmed/internal/apptest"
)

// TestLoginThrottleCountsTheAccount: a patient's e-mail and CPF are two
// ways into one account, so their failures share one allowance of five,
// and so does the change-password form.
func TestLoginThrottleCountsTheAccount(t *testing.T) {
	env := apptest.New(t)
	mustRegister(t, env, registerPatientOp, patientInput(nil))
	for i, login := range []string{"ana@example.com", "52998224725", "ANA@example.com", "529.982.247-25", "ana@example.com"} {
		if r := env.Do("", loginPatientOp, map[string]any{"login": login, "pw": "wrong password"}); r.Code() != "UNAUTHENTICATED" {
			t.Fatalf("failure %d (%s): %q", i+1, login, r.Code())
		}
	}
	for _, login := range []string{"ana@example.com", "52998224725"} {
		if r := env.Do("", loginPatientOp, map[string]any{"login": login, "pw": "long enough pw"}); r.Code() != "RATE_LIMITED" {
			t.Errorf("right password by %s after five failures over both logins: %q, want RATE_LIMITED", login, r.Code())
		}
	}

	// A signed-in thief guessing through changePassword uses up the same
	// allowance.
	tok, _, email := env.Patient("Beto")
	for range 3 {
		env.Do("", loginPatientOp, map[string]any{"login": email, "pw": "wrong password"})
	}
	for range 2 {
		env.Do(tok, changePasswordOp, map[string]any{"cur": "a wrong guess", "new": "whatever passphrase"})
	}
	if r := env.Do("", loginPatientOp, map[string]any{"login": email, "pw": "correct horse battery"}); r.Code() != "RATE_LIMITED" {
		t.Errorf("login after five failures over login and changePassword: %q", r.Code())
	}
}
