package graph_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent/patient"
	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/auth"
)

const (
	signedInAsOp = `{ viewer { ... on Patient { id } ... on Doctor { id } } }`
	linkOp       = `mutation($t: String!, $p: String!) { linkExternalIdentity(token: $t, password: $p) }`
	password     = "correct horse battery"
	victimMail   = "victim@example.com"
)

func signedInAs(t *testing.T, env *apptest.Env, token string) (string, string) {
	t.Helper()
	r := env.Do(token, signedInAsOp, nil)
	if r.Code() != "" {
		return "", r.Code()
	}
	var out struct{ Viewer *struct{ ID string } }
	r.Decode(t, &out)
	if out.Viewer == nil {
		return "", ""
	}
	return out.Viewer.ID, ""
}

// TestExternalSignInNeedsBothVerifiedOrAnExplicitLink: an attacker who
// registers the victim's e-mail here first does not receive the victim's
// provider sign-ins; a locally verified e-mail that the provider also
// verified links on the first sign-in; otherwise only the account's owner
// links, signed in and with the password.
func TestExternalSignInNeedsBothVerifiedOrAnExplicitLink(t *testing.T) {
	idp := apptest.NewOIDCProvider(t)
	env := apptest.New(t, idp.Configure())

	// The pre-hijack: the attacker's account holds the victim's address,
	// never verified.
	attacker := env.Do("", `mutation($in: RegisterPatientInput!) { registerPatient(input: $in) { token } }`,
		map[string]any{"in": map[string]any{"name": "Mallory", "email": victimMail, "cpf": apptest.CPF(), "password": password}})
	if attacker.Code() != "" {
		t.Fatalf("register: %+v", attacker.Errors)
	}
	victimTok := idp.Token(t, "victim-sub", "patient", victimMail, true)
	if id, code := signedInAs(t, env, victimTok); code != "UNAUTHENTICATED" {
		t.Fatalf("the victim's provider sign-in opened account %q (code %q), want UNAUTHENTICATED", id, code)
	}

	// Verified on both sides: linked on the first sign-in, by subject
	// from then on.
	verified, _, verifiedMail := env.Patient("Vera")
	verifiedID := viewerID(t, env, verified)
	if err := env.DB.Client.Patient.Update().Where(patient.Email(verifiedMail)).SetEmailVerifiedAt(time.Now()).
		Exec(sysCtx()); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		tok  string
		want string
	}{
		"provider has not verified": {idp.Token(t, "vera-other", "patient", verifiedMail, false), ""},
		"another kind of account":   {idp.Token(t, "vera-doc", "doctor", verifiedMail, true), ""},
	} {
		if id, code := signedInAs(t, env, tc.tok); code != "UNAUTHENTICATED" {
			t.Fatalf("%s: signed in as %q (code %q)", name, id, code)
		}
	}
	veraTok := idp.Token(t, "vera-sub", "patient", verifiedMail, true)
	if id, code := signedInAs(t, env, veraTok); id != verifiedID {
		t.Fatalf("verified on both sides: signed in as %q (code %q), want %s", id, code, verifiedID)
	}
	// The link is by subject: a later token of the same subject with
	// another e-mail still opens the account.
	if id, _ := signedInAs(t, env, idp.Token(t, "vera-sub", "patient", "vera@elsewhere.example", false)); id != verifiedID {
		t.Fatalf("linked subject signed in as %q", id)
	}

	// The explicit link, made by the owner while signed in.
	owner, _, _ := env.Patient("Olga")
	ownerID := viewerID(t, env, owner)
	doctor, _ := env.Doctor("Dr. Link", "Cardiology", -23.5, -46.6)
	olgaTok := idp.Token(t, "olga-sub", "patient", "olga@provider.example", false)
	for _, tc := range []struct {
		name, token, idpTok, password, code, field, reason string
	}{
		{"anonymous", "", olgaTok, password, "UNAUTHENTICATED", "", ""},
		{"wrong password", owner, olgaTok, "not the password", "BAD_USER_INPUT", "password", ""},
		{"not a provider token", owner, owner, password, "BAD_USER_INPUT", "token", ""},
		{"token for a doctor", owner, idp.Token(t, "olga-doc", "doctor", "olga@provider.example", true), password, "BAD_USER_INPUT", "token", ""},
		{"someone else's identity", owner, veraTok, password, "CONFLICT", "", "ALREADY_LINKED"},
		{"doctor linking a patient's identity", doctor, olgaTok, password, "BAD_USER_INPUT", "token", ""},
		{"owner", owner, olgaTok, password, "", "", ""},
		{"owner again", owner, olgaTok, password, "", "", ""},
		{"a second identity of the provider", owner, idp.Token(t, "olga-2", "patient", "x@provider.example", true), password, "CONFLICT", "", "ALREADY_LINKED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := env.Do(tc.token, linkOp, map[string]any{"t": tc.idpTok, "p": tc.password})
			if r.Code() != tc.code || r.Ext("field") != tc.field || r.Ext("reason") != tc.reason {
				t.Fatalf("errors %+v, want %s %s %s", r.Errors, tc.code, tc.field, tc.reason)
			}
		})
	}
	if id, code := signedInAs(t, env, olgaTok); id != ownerID {
		t.Fatalf("explicitly linked identity signed in as %q (code %q), want %s", id, code, ownerID)
	}
	if id, code := signedInAs(t, env, victimTok); code != "UNAUTHENTICATED" {
		t.Fatalf("after all that the victim's token opens %q", id)
	}

	// An account whose e-mail this server never verified (made before
	// registrations waited for their link) links nothing, even with its
	// password.
	hash, err := auth.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := env.DB.Client.Patient.Create().SetName("Lia").SetEmail("lia@example.com").SetCpf(apptest.CPF()).
		SetPasswordHash(hash).Save(sysCtx())
	if err != nil {
		t.Fatal(err)
	}
	legacyTok, _, err := env.App.Issuer.IssueSession(strconv.Itoa(legacy.ID), "patient", "legacy-sign-in")
	if err != nil {
		t.Fatal(err)
	}
	liaTok := idp.Token(t, "lia-sub", "patient", "lia@example.com", true)
	if r := env.Do(legacyTok, linkOp, map[string]any{"t": liaTok, "p": password}); r.Code() != "FORBIDDEN" || r.Ext("reason") != "EMAIL_NOT_VERIFIED" {
		t.Fatalf("unverified account linked: %+v", r.Errors)
	}
	if _, code := signedInAs(t, env, liaTok); code != "UNAUTHENTICATED" {
		t.Fatalf("an unverified account's e-mail let a provider in: %q", code)
	}
}
