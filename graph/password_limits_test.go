package graph_test

import (
	"fmt"
	"github.com/healthmed/healthmed/ent/registration"
	"testing"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/config"
)

// patientsCount counts patients' registrations (an account is made only
// when the registration's e-mail link is followed).
func patientsCount(t *testing.T, env *apptest.Env) int {
	t.Helper()
	n, err := env.DB.Client.Registration.Query().Where(registration.KindEQ(registration.KindPATIENT)).Count(sysCtx())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Aliases cannot turn one request into many password hashes.
func TestOneOperationRunsOnePasswordField(t *testing.T) {
	env := apptest.New(t)
	in := func(i int) map[string]any {
		return map[string]any{"name": "Ana", "email": fmt.Sprintf("ana%d@example.com", i), "cpf": apptest.CPF(),
			"password": "long enough pw"}
	}
	cases := map[string]string{
		"aliases": `mutation($a: RegisterPatientInput!, $b: RegisterPatientInput!) {
			a: registerPatient(input: $a) { token } b: registerPatient(input: $b) { token } }`,
		"through a fragment": `mutation($a: RegisterPatientInput!, $b: RegisterPatientInput!) {
			a: registerPatient(input: $a) { token } ...more }
			fragment more on Mutation { b: registerPatient(input: $b) { token } }`,
		"register and log in": `mutation($a: RegisterPatientInput!) {
			a: registerPatient(input: $a) { token } b: loginPatient(login: "x@example.com", password: "long enough pw") { token } }`,
	}
	i := 0
	for name, q := range cases {
		t.Run(name, func(t *testing.T) {
			i += 2
			r := env.Do("", q, map[string]any{"a": in(i), "b": in(i + 1)})
			if r.Code() != "BAD_USER_INPUT" || r.Ext("reason") != "PASSWORD_FIELD_LIMIT" {
				t.Fatalf("code %q reason %q: %+v", r.Code(), r.Ext("reason"), r.Errors)
			}
		})
	}
	if n := patientsCount(t, env); n != 0 {
		t.Fatalf("%d patients registered by refused operations", n)
	}
	if r := env.Do("", registerPatientOp, map[string]any{"in": in(100)}); r.Code() != "" {
		t.Fatalf("a single registration: %+v", r.Errors)
	}
	// Linking checks the account's password: two links in one request are
	// two argon2 checks for one request's budget.
	t.Run("link an external identity twice", func(t *testing.T) {
		pat, _, _ := env.Patient("Bea")
		r := env.Do(pat, `mutation { a: linkExternalIdentity(token: "x", password: "long enough pw")
			b: linkExternalIdentity(token: "y", password: "long enough pw") }`, nil)
		if r.Code() != "BAD_USER_INPUT" || r.Ext("reason") != "PASSWORD_FIELD_LIMIT" {
			t.Fatalf("code %q reason %q: %+v", r.Code(), r.Ext("reason"), r.Errors)
		}
	})
}

func TestRegistrationIsThrottledPerAddress(t *testing.T) {
	env := apptest.New(t, apptest.WithConfig(func(c *config.Config) { c.RegisterPerMinute = 2 }))
	var codes []string
	for i := 0; i < 3; i++ {
		r := env.Do("", registerPatientOp, patientInput(map[string]any{
			"email": fmt.Sprintf("p%d@example.com", i), "cpf": apptest.CPF()}))
		codes = append(codes, r.Code())
	}
	r := env.Do("", registerDoctorOp, doctorInput(nil))
	codes = append(codes, r.Code())
	if fmt.Sprint(codes) != "[  RATE_LIMITED RATE_LIMITED]" || r.Errors[0].Extensions["retryAfterSeconds"] == nil {
		t.Fatalf("codes %q, want two registrations then RATE_LIMITED for either kind (%+v)", codes, r.Errors)
	}
	if n := patientsCount(t, env); n != 2 {
		t.Fatalf("%d patients registered", n)
	}
}

// Confirming a password to deactivate an account goes through the
// account's throttle, shared with changePassword.
func TestDeactivateAccountPasswordIsThrottled(t *testing.T) {
	env := apptest.New(t)
	pat, _, _ := env.Patient("Alice")
	var codes []string
	for i := 0; i < 6; i++ {
		codes = append(codes, env.Do(pat, deactivateOp, map[string]any{"pw": fmt.Sprintf("wrong guess %d", i)}).Code())
	}
	want := "[BAD_USER_INPUT BAD_USER_INPUT BAD_USER_INPUT BAD_USER_INPUT BAD_USER_INPUT RATE_LIMITED]"
	if fmt.Sprint(codes) != want {
		t.Fatalf("codes %q, want %s", codes, want)
	}
	// The right password waits too, and so does changePassword.
	if r := env.Do(pat, deactivateOp, map[string]any{"pw": "correct horse battery"}); r.Code() != "RATE_LIMITED" {
		t.Fatalf("right password while throttled: %q", r.Code())
	}
	r := env.Do(pat, `mutation { changePassword(currentPassword: "correct horse battery", newPassword: "another long password") { token } }`, nil)
	if r.Code() != "RATE_LIMITED" {
		t.Fatalf("changePassword while throttled: %q", r.Code())
	}
}
