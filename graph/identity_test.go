package graph_test

import (
	"context"
	"strings"
	"testing"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/viewer"
)

const (
	registerPatientOp = `mutation($in: RegisterPatientInput!) { registerPatient(input: $in) { token expiresAt } }`
	registerDoctorOp  = `mutation($in: RegisterDoctorInput!) { registerDoctor(input: $in) { token expiresAt } }`
	loginDoctorOp     = `mutation($crm: String!, $pw: String!) { loginDoctor(crm: $crm, password: $pw) { token expiresAt } }`
	loginPatientOp    = `mutation($login: String!, $pw: String!) { loginPatient(login: $login, password: $pw) { token } }`
	viewerOp          = `{ viewer { __typename ... on Doctor { id name crm specialty } ... on Patient { id name email } } }`
)

func patientInput(over map[string]any) map[string]any {
	in := map[string]any{"name": "Ana Souza", "email": "ana@example.com", "cpf": "529.982.247-25", "password": "long enough pw"}
	for k, v := range over {
		in[k] = v
	}
	return map[string]any{"in": in}
}

func doctorInput(over map[string]any) map[string]any {
	in := map[string]any{
		"name": "Dr. Caio", "email": "caio@example.com", "password": "long enough pw", "crm": "123456/SP",
		"specialty": "Cardiology", "priceCents": 30000, "location": map[string]any{"lat": -23.55, "lng": -46.63},
	}
	for k, v := range over {
		in[k] = v
	}
	return map[string]any{"in": in}
}

// mustRegister registers with op and vars, follows the link e-mailed to
// the address, and so makes the account.
func mustRegister(t *testing.T, env *apptest.Env, op string, vars map[string]any) {
	t.Helper()
	if r := env.Do("", op, vars); r.Code() != "" {
		t.Fatalf("register: %+v", r.Errors)
	}
	email := strings.ToLower(strings.TrimSpace(vars["in"].(map[string]any)["email"].(string)))
	var out struct{ VerifyEmail bool }
	env.Do("", `mutation($t: String!) { verifyEmail(token: $t) }`, map[string]any{"t": env.LinkSecret(t, email, "VERIFY_EMAIL")}).Decode(t, &out)
}

func TestRegisterPatientRejectsBadInput(t *testing.T) {
	env := apptest.New(t)
	// An existing patient, for the cases of taken identifiers.
	mustRegister(t, env, registerPatientOp, patientInput(nil))
	cases := []struct {
		name        string
		over        map[string]any
		code, field string
		conflictWhy string
	}{
		{"cpf check digit wrong", map[string]any{"email": "x1@example.com", "cpf": "529.982.247-26"}, "BAD_USER_INPUT", "cpf", ""},
		{"cpf all equal digits", map[string]any{"email": "x2@example.com", "cpf": "111.111.111-11"}, "BAD_USER_INPUT", "cpf", ""},
		{"cpf too short", map[string]any{"email": "x3@example.com", "cpf": "1234567890"}, "BAD_USER_INPUT", "cpf", ""},
		{"password too short", map[string]any{"email": "x4@example.com", "cpf": apptest.CPF(), "password": "short"}, "BAD_USER_INPUT", "password", ""},
		{"email invalid", map[string]any{"email": "not-an-email", "cpf": apptest.CPF()}, "BAD_USER_INPUT", "email", ""},
		{"name blank", map[string]any{"email": "x5@example.com", "cpf": apptest.CPF(), "name": "   "}, "BAD_USER_INPUT", "name", ""},
		{"line break in the name", map[string]any{"email": "x8@example.com", "cpf": apptest.CPF(), "name": "Ana\r\nBcc: all@example.com"}, "BAD_USER_INPUT", "name", ""},
		{"control character in the name", map[string]any{"email": "x9@example.com", "cpf": apptest.CPF(), "name": "Ana\x00Souza"}, "BAD_USER_INPUT", "name", ""},
		{"bidirectional override in the name", map[string]any{"email": "x10@example.com", "cpf": apptest.CPF(), "name": "Ana \u202eazuoS"}, "BAD_USER_INPUT", "name", ""},
		// Taken identifiers answer like a new registration and make no
		// account (see TestRegistrationOfTakenEmailOrCPFAnswersLikeANewOne).
		{"email taken, other case", map[string]any{"email": " ANA@Example.com ", "cpf": apptest.CPF()}, "", "", ""},
		{"cpf taken, bare digits", map[string]any{"email": "x6@example.com", "cpf": "52998224725"}, "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := countPatients(t, env)
			r := env.Do("", registerPatientOp, patientInput(tc.over))
			if r.Code() != tc.code {
				t.Fatalf("code = %q, want %q (errors %+v)", r.Code(), tc.code, r.Errors)
			}
			if got := r.Ext("field"); got != tc.field {
				t.Errorf("field = %q, want %q", got, tc.field)
			}
			if got := r.Ext("reason"); got != tc.conflictWhy {
				t.Errorf("reason = %q, want %q", got, tc.conflictWhy)
			}
			if after := countPatients(t, env); after != before {
				t.Errorf("patients %d -> %d: a registration made an account without its link", before, after)
			}
		})
	}
}

func TestRegisterDoctorRejectsBadInput(t *testing.T) {
	env := apptest.New(t)
	mustRegister(t, env, registerDoctorOp, doctorInput(nil))
	cases := []struct {
		name        string
		over        map[string]any
		code, field string
		reason      string
	}{
		{"unknown state", map[string]any{"email": "d1@example.com", "crm": "123/XX"}, "BAD_USER_INPUT", "crm", ""},
		{"crm without state", map[string]any{"email": "d2@example.com", "crm": "123456"}, "BAD_USER_INPUT", "crm", ""},
		{"latitude out of range", map[string]any{"email": "d3@example.com", "crm": "9/RJ", "location": map[string]any{"lat": 91.0, "lng": 0.0}}, "BAD_USER_INPUT", "location", ""},
		{"negative price", map[string]any{"email": "d4@example.com", "crm": "10/RJ", "priceCents": -1}, "BAD_USER_INPUT", "priceCents", ""},
		{"unknown timezone", map[string]any{"email": "d5@example.com", "crm": "11/RJ", "timezone": "Mars/Olympus"}, "BAD_USER_INPUT", "timezone", ""},
		{"short password", map[string]any{"email": "d6@example.com", "crm": "12/RJ", "password": "123"}, "BAD_USER_INPUT", "password", ""},
		{"line break in the name", map[string]any{"email": "d8@example.com", "crm": "13/MG", "name": "Dr. Caio\nSubject: urgent"}, "BAD_USER_INPUT", "name", ""},
		{"tab in the specialty", map[string]any{"email": "d9@example.com", "crm": "14/MG", "specialty": "Cardio\tlogy"}, "BAD_USER_INPUT", "specialty", ""},
		{"crm taken, other spelling", map[string]any{"email": "d7@example.com", "crm": "CRM-SP 123456"}, "", "", ""},
		{"email taken", map[string]any{"email": "Caio@example.com", "crm": "13/RJ"}, "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := countDoctors(t, env)
			r := env.Do("", registerDoctorOp, doctorInput(tc.over))
			if r.Code() != tc.code || r.Ext("field") != tc.field || r.Ext("reason") != tc.reason {
				t.Fatalf("got code=%q field=%q reason=%q, want %q %q %q (errors %+v)",
					r.Code(), r.Ext("field"), r.Ext("reason"), tc.code, tc.field, tc.reason, r.Errors)
			}
			if after := countDoctors(t, env); after != before {
				t.Errorf("doctors %d -> %d: a registration made an account without its link", before, after)
			}
		})
	}
}

func TestLoginBothKindsAndViewer(t *testing.T) {
	env := apptest.New(t)
	mustRegister(t, env, registerDoctorOp, doctorInput(nil))
	mustRegister(t, env, registerPatientOp, patientInput(nil))

	var doc struct {
		LoginDoctor struct{ Token, ExpiresAt string }
	}
	env.Do("", loginDoctorOp, map[string]any{"crm": "123456/sp", "pw": "long enough pw"}).Decode(t, &doc)
	var v struct {
		Viewer struct {
			Typename string `json:"__typename"`
			Name     string
			Crm      string
		}
	}
	env.Do(doc.LoginDoctor.Token, viewerOp, nil).Decode(t, &v)
	if v.Viewer.Typename != "Doctor" || v.Viewer.Crm != "123456/SP" || v.Viewer.Name != "Dr. Caio" {
		t.Fatalf("doctor viewer = %+v", v.Viewer)
	}

	for _, login := range []string{"ana@example.com", "ANA@example.com", "529.982.247-25", "52998224725"} {
		var p struct{ LoginPatient struct{ Token string } }
		env.Do("", loginPatientOp, map[string]any{"login": login, "pw": "long enough pw"}).Decode(t, &p)
		var pv struct {
			Viewer struct {
				Typename string `json:"__typename"`
				Email    string
			}
		}
		env.Do(p.LoginPatient.Token, viewerOp, nil).Decode(t, &pv)
		if pv.Viewer.Typename != "Patient" || pv.Viewer.Email != "ana@example.com" {
			t.Fatalf("login %q: viewer = %+v", login, pv.Viewer)
		}
	}

	var anon struct{ Viewer *struct{} }
	env.Do("", viewerOp, nil).Decode(t, &anon)
	if anon.Viewer != nil {
		t.Fatalf("anonymous viewer = %+v, want null", anon.Viewer)
	}
}

func TestLoginFailuresLookAlikeAndAreThrottled(t *testing.T) {
	env := apptest.New(t)
	mustRegister(t, env, registerPatientOp, patientInput(nil))
	wrong := env.Do("", loginPatientOp, map[string]any{"login": "ana@example.com", "pw": "wrong password"})
	unknown := env.Do("", loginPatientOp, map[string]any{"login": "nobody@example.com", "pw": "wrong password"})
	if wrong.Code() != "UNAUTHENTICATED" || unknown.Code() != "UNAUTHENTICATED" {
		t.Fatalf("codes: wrong=%q unknown=%q", wrong.Code(), unknown.Code())
	}
	if wrong.Errors[0].Message != unknown.Errors[0].Message {
		t.Fatalf("messages reveal the account: %q vs %q", wrong.Errors[0].Message, unknown.Errors[0].Message)
	}
	for i := 0; i < 4; i++ {
		env.Do("", loginPatientOp, map[string]any{"login": "ana@example.com", "pw": "wrong password"})
	}
	// Five failures: even the right password is refused for a while.
	r := env.Do("", loginPatientOp, map[string]any{"login": "ana@example.com", "pw": "long enough pw"})
	if r.Code() != "RATE_LIMITED" {
		t.Fatalf("after 5 failures code = %q, want RATE_LIMITED", r.Code())
	}
	if strings.Contains(env.Logs.String(), "long enough pw") || strings.Contains(env.Logs.String(), "wrong password") {
		t.Fatal("a password reached the logs")
	}
}

func TestBadTokenIsUnauthenticated(t *testing.T) {
	env := apptest.New(t)
	tok, _, _ := env.Patient("Bia")
	parts := strings.Split(tok, ".")
	tampered := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
	for name, token := range map[string]string{"tampered": tampered, "garbage": "abc", "alg none": parts[0] + "." + parts[1] + "."} {
		r := env.Do(token, viewerOp, nil)
		if r.Status != 200 || r.Code() != "UNAUTHENTICATED" || r.Ext("reason") != "TOKEN_INVALID" {
			t.Errorf("%s: status %d code %q", name, r.Status, r.Code())
		}
	}
}

func countPatients(t *testing.T, env *apptest.Env) int {
	t.Helper()
	n, err := env.DB.Client.Patient.Query().Count(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func countDoctors(t *testing.T, env *apptest.Env) int {
	t.Helper()
	n, err := env.DB.Client.Doctor.Query().Count(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The throttle is shared: failures on one replica count on the other.
func TestLoginThrottleHoldsAcrossReplicas(t *testing.T) {
	a := apptest.New(t)
	b := a.Replica(t)
	mustRegister(t, a, registerPatientOp, patientInput(nil))
	for i := range 5 {
		env := a
		if i%2 == 1 {
			env = b
		}
		if r := env.Do("", loginPatientOp, map[string]any{"login": "ana@example.com", "pw": "wrong password"}); r.Code() != "UNAUTHENTICATED" {
			t.Fatalf("failure %d: code %q", i+1, r.Code())
		}
	}
	for name, env := range map[string]*apptest.Env{"A": a, "B": b} {
		if r := env.Do("", loginPatientOp, map[string]any{"login": "ana@example.com", "pw": "long enough pw"}); r.Code() != "RATE_LIMITED" {
			t.Errorf("replica %s after 5 failures over both: code %q, want RATE_LIMITED", name, r.Code())
		}
	}
}
