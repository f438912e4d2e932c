package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/app"
	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/auth"
	"github.com/healthmed/healthmed/internal/config"
	"github.com/healthmed/healthmed/internal/viewer"
)

var linkSeq atomic.Int64

func newPatientInput(email, cpf string) map[string]any {
	return map[string]any{"name": "Paciente Link", "email": email, "cpf": cpf, "password": "correct horse battery"}
}

func uniqueEmail(prefix string) string {
	return fmt.Sprintf("%s%d-%d@example.com", prefix, time.Now().UnixNano()%1e6, linkSeq.Add(1))
}

// A registration makes no account until the link e-mailed to the address
// is followed: its sign-in opens nothing, the password does not sign in,
// the link works once, and its secret is stored nowhere.
func TestRegistrationWaitsForItsEmailLink(t *testing.T) {
	env, srv := mailEnv(t)
	email, cpf := uniqueEmail("new"), apptest.CPF()
	var reg struct{ RegisterPatient pair }
	env.Do("", regPairOp, map[string]any{"in": newPatientInput(email, cpf)}).Decode(t, &reg)
	pending := reg.RegisterPatient

	if whoAmI(env, pending.Token) != "" {
		t.Fatal("a pending registration's sign-in names an account")
	}
	for name, op := range map[string]string{
		"share":         `mutation { shareRecords(input: {doctorId: "1", categories: [EXAM], expiresAt: "2099-01-01T00:00:00Z"}) { id } }`,
		"appointments":  `{ appointments { edges { node { id } } } }`,
		"notifications": inAppListOp,
	} {
		r := env.Do(pending.Token, op, nil)
		if r.Code() != "FORBIDDEN" || r.Ext("reason") != "EMAIL_NOT_VERIFIED" {
			t.Fatalf("%s before the link: %q %q", name, r.Code(), r.Ext("reason"))
		}
	}
	if r := env.Do("", loginPairOp, map[string]any{"login": email, "pw": "correct horse battery"}); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("login before the link: %q", r.Code())
	}

	m := mailTo(t, srv, email, "Confirme seu e-mail", 1)
	secret := linkIn(t, m, "verify-email")
	inClear(t, env, secret)

	if !decodeBool(t, env.Do("", verifyEmailOp, map[string]any{"t": secret}), "verifyEmail") {
		t.Fatal("verifyEmail said false")
	}
	// Replayed: used up.
	if r := env.Do("", verifyEmailOp, map[string]any{"t": secret}); r.Code() != "BAD_USER_INPUT" || r.Ext("reason") != "INVALID_LINK" || r.Ext("field") != "token" {
		t.Fatalf("replay: %q %q", r.Code(), r.Ext("reason"))
	}
	// The registration's refresh token now signs in to the account.
	next, code := refresh(env, pending.RefreshToken)
	if code != "" || whoAmI(env, next.Token) != email {
		t.Fatalf("refresh after the link: %q", code)
	}
	signIn(t, env, email)
	inClear(t, env, secret, next.Token)
}

// Registering an e-mail or a CPF that has an account answers exactly like
// a new registration; what differs goes by e-mail to the addresses'
// owners.
func TestRegistrationOfTakenEmailOrCPFAnswersLikeANewOne(t *testing.T) {
	env, srv := mailEnv(t)
	ownerCPF, ownerEmail := apptest.CPF(), uniqueEmail("owner")
	hash, err := auth.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.DB.Client.Patient.Create().SetName("Dona da Conta").SetEmail(ownerEmail).SetCpf(ownerCPF).
		SetPasswordHash(hash).SetEmailVerifiedAt(time.Now()).Exec(viewer.SystemContext(context.Background())); err != nil {
		t.Fatal(err)
	}
	otherCPF := apptest.CPF()
	newAddr, cpfProbe := uniqueEmail("fresh"), uniqueEmail("probe")
	cases := []struct {
		name       string
		email, cpf string
	}{
		{"new", newAddr, apptest.CPF()},
		{"taken e-mail", ownerEmail, otherCPF},
		{"taken CPF", cpfProbe, ownerCPF},
		{"taken both", ownerEmail, ownerCPF},
	}
	shapes := map[string]string{}
	for _, tc := range cases {
		r := env.Do("", regPairOp, map[string]any{"in": newPatientInput(tc.email, tc.cpf)})
		if len(r.Errors) != 0 || r.Status != 200 {
			t.Fatalf("%s: %d %+v", tc.name, r.Status, r.Errors)
		}
		var out struct{ RegisterPatient pair }
		r.Decode(t, &out)
		p := out.RegisterPatient
		// Same fields, same kinds of value, same lifetimes.
		exp, _ := time.Parse(time.RFC3339, p.ExpiresAt)
		rexp, _ := time.Parse(time.RFC3339, p.RefreshExpiresAt)
		shapes[tc.name] = fmt.Sprintf("%s|%d|%d|%v|%v", shape(r.Data), len(p.Token)/10, len(p.RefreshToken),
			time.Until(exp).Round(time.Minute), time.Until(rexp).Round(time.Hour))
		// What the sign-in can do is the same too.
		if whoAmI(env, p.Token) != "" {
			t.Fatalf("%s: the sign-in names an account", tc.name)
		}
		if r := env.Do(p.Token, resendOp, nil); r.Code() != "" {
			t.Fatalf("%s: resend %q", tc.name, r.Code())
		}
		if r := env.Do(p.Token, inAppListOp, nil); r.Ext("reason") != "EMAIL_NOT_VERIFIED" {
			t.Fatalf("%s: %q", tc.name, r.Ext("reason"))
		}
		if _, code := refresh(env, p.RefreshToken); code != "" {
			t.Fatalf("%s: refresh %q", tc.name, code)
		}
	}
	for _, tc := range cases[1:] {
		if shapes[tc.name] != shapes["new"] {
			t.Fatalf("%s answers %s, a new registration %s", tc.name, shapes[tc.name], shapes["new"])
		}
	}
	// The new address gets its links (the registration's and the resend);
	// the owner gets notices, never a link to someone else's registration.
	mailTo(t, srv, newAddr, "Confirme seu e-mail", 2)
	mailTo(t, srv, ownerEmail, "Tentativa de cadastro", 3)
	if n := mailsTo(srv, ownerEmail, "Confirme seu e-mail"); n != 0 {
		t.Fatalf("the owner of the e-mail got %d links", n)
	}
	notice := mailTo(t, srv, ownerEmail, "Tentativa de cadastro", 1)
	if strings.Contains(notice.Body, ownerCPF) || strings.Contains(notice.Body, "token=") {
		t.Fatalf("notice %q", notice.Body)
	}
	// The address given with a taken CPF gets its link; following it
	// cannot make a second account of that CPF.
	probe := linkIn(t, mailTo(t, srv, cpfProbe, "Confirme seu e-mail", 1), "verify-email")
	if r := env.Do("", verifyEmailOp, map[string]any{"t": probe}); r.Code() != "CONFLICT" || r.Ext("reason") != "ALREADY_REGISTERED" {
		t.Fatalf("the CPF's second account: %q %q", r.Code(), r.Ext("reason"))
	}
	// The owner's account is as it was: their password signs in.
	signIn(t, env, ownerEmail)
}

// shape is the JSON of v with every leaf replaced by its type.
func shape(raw json.RawMessage) string {
	var v any
	_ = json.Unmarshal(raw, &v)
	var walk func(any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			out := map[string]any{}
			for k, x := range v {
				out[k] = walk(x)
			}
			return out
		default:
			return reflect.TypeOf(v).String()
		}
	}
	b, _ := json.Marshal(walk(v))
	return string(b)
}

type movableClock struct{ off atomic.Int64 }

func (c *movableClock) now() time.Time      { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *movableClock) add(d time.Duration) { c.off.Add(int64(d)) }

// A reset link works once, for 30 minutes, for its own account only; it
// ends every sign-in; requestPasswordReset answers true for anyone.
func TestPasswordResetLink(t *testing.T) {
	clk := &movableClock{}
	env, srv := mailEnv(t, apptest.WithApp(app.WithClock(clk.now)))
	_, _, email := env.Patient("Esquecida")
	_, _, otherEmail := env.Patient("Outra")
	before := signIn(t, env, email)
	other := signIn(t, env, otherEmail)

	for _, login := range []string{email, "nobody-here@example.com", apptest.CPF(), "999999/SP"} {
		r := env.Do("", requestResetOp, map[string]any{"l": login})
		if !decodeBool(t, r, "requestPasswordReset") {
			t.Fatalf("%s: false", login)
		}
	}
	secret := linkIn(t, mailTo(t, srv, email, "Redefinição de senha", 1), "reset-password")
	inClear(t, env, secret, before.Token)

	// Not a verification link, and not after a bad new password.
	if r := env.Do("", verifyEmailOp, map[string]any{"t": secret}); r.Ext("reason") != "INVALID_LINK" {
		t.Fatalf("a reset link verified an e-mail: %q", r.Code())
	}
	if r := env.Do("", resetPasswordOp, map[string]any{"t": secret, "pw": "short"}); r.Ext("field") != "newPassword" {
		t.Fatalf("short password: %q %q", r.Code(), r.Ext("field"))
	}
	// Used by someone signed in as another account: it still resets its
	// own account only.
	var out struct{ ResetPassword pair }
	env.Do(other.Token, resetPasswordOp, map[string]any{"t": secret, "pw": "a brand new secret"}).Decode(t, &out)
	if whoAmI(env, out.ResetPassword.Token) != email {
		t.Fatal("the reset signed in to another account")
	}
	if whoAmI(env, other.Token) != otherEmail {
		t.Fatal("the other account's sign-in ended")
	}
	if whoAmI(env, before.Token) != "" {
		t.Fatal("a sign-in from before the reset survived")
	}
	if _, code := refresh(env, before.RefreshToken); code != "UNAUTHENTICATED" {
		t.Fatalf("refresh from before the reset: %q", code)
	}
	if r := env.Do("", loginPairOp, map[string]any{"login": email, "pw": "a brand new secret"}); r.Code() != "" {
		t.Fatalf("new password: %q", r.Code())
	}
	// Replayed: used.
	if r := env.Do("", resetPasswordOp, map[string]any{"t": secret, "pw": "yet another secret"}); r.Ext("reason") != "INVALID_LINK" {
		t.Fatalf("replay: %q", r.Code())
	}
	// Expired: 31 minutes later.
	env.Do("", requestResetOp, map[string]any{"l": email}).Decode(t, &map[string]bool{})
	late := linkIn(t, mailTo(t, srv, email, "Redefinição de senha", 2), "reset-password")
	clk.add(31 * time.Minute)
	if r := env.Do("", resetPasswordOp, map[string]any{"t": late, "pw": "yet another secret"}); r.Ext("reason") != "INVALID_LINK" {
		t.Fatalf("expired: %q", r.Code())
	}
	// Garbage never reaches the database.
	for _, bad := range []string{"", "x", strings.Repeat("A", 44), secret[:42] + "!"} {
		if r := env.Do("", resetPasswordOp, map[string]any{"t": bad, "pw": "yet another secret"}); r.Ext("reason") != "INVALID_LINK" {
			t.Fatalf("%q: %q", bad, r.Code())
		}
	}
}

// Per account, reset links stop after three (the answer stays true);
// per address, requests and links tried are RATE_LIMITED.
func TestAccountLinkThrottles(t *testing.T) {
	env, srv := mailEnv(t, apptest.WithConfig(func(c *config.Config) { c.AccountLinksPerMinute = 6 }))
	_, _, email := env.Patient("Insistente")
	for i := 0; i < 5; i++ {
		if !decodeBool(t, env.Do("", requestResetOp, map[string]any{"l": email}), "requestPasswordReset") {
			t.Fatal("false")
		}
	}
	mailTo(t, srv, email, "Redefinição de senha", 3)
	time.Sleep(time.Second)
	if n := mailsTo(srv, email, "Redefinição de senha"); n != 3 {
		t.Fatalf("%d reset e-mails, want 3", n)
	}
	// The verifyEmail of the registration counted too: 1 + 5 so far.
	if r := env.Do("", requestResetOp, map[string]any{"l": "someone@example.com"}); r.Code() != "RATE_LIMITED" {
		t.Fatalf("past the address limit: %q", r.Code())
	}
	if r := env.Do("", verifyEmailOp, map[string]any{"t": strings.Repeat("A", 43)}); r.Code() != "RATE_LIMITED" {
		t.Fatalf("links past the address limit: %q", r.Code())
	}

	// Resend: three at once, then RATE_LIMITED.
	var reg struct{ RegisterPatient pair }
	env.Do("", regPairOp, map[string]any{"in": newPatientInput(uniqueEmail("resend"), apptest.CPF())}).Decode(t, &reg)
	for i := 0; i < 3; i++ {
		if r := env.Do(reg.RegisterPatient.Token, resendOp, nil); r.Code() != "" {
			t.Fatalf("resend %d: %q", i, r.Code())
		}
	}
	if r := env.Do(reg.RegisterPatient.Token, resendOp, nil); r.Code() != "RATE_LIMITED" {
		t.Fatalf("fourth resend: %q", r.Code())
	}
}

// An e-mail change goes through a link to the new address; the account
// keeps its address until the link is followed.
func TestChangeEmailThroughReverification(t *testing.T) {
	env, srv := mailEnv(t)
	tok, _, email := env.Patient("Mudança")
	next := uniqueEmail("moved")
	if r := env.Do(tok, changeEmailOp, map[string]any{"e": next, "pw": "wrong password!"}); r.Ext("field") != "password" {
		t.Fatalf("wrong password: %q %q", r.Code(), r.Ext("field"))
	}
	if r := env.Do(tok, changeEmailOp, map[string]any{"e": "not an address", "pw": "correct horse battery"}); r.Ext("field") != "newEmail" {
		t.Fatalf("bad address: %q %q", r.Code(), r.Ext("field"))
	}
	if !decodeBool(t, env.Do(tok, changeEmailOp, map[string]any{"e": next, "pw": "correct horse battery"}), "changeEmail") {
		t.Fatal("false")
	}
	secret := linkIn(t, mailTo(t, srv, next, "Confirme seu e-mail", 1), "verify-email")
	inClear(t, env, secret, tok)
	if whoAmI(env, tok) != email {
		t.Fatal("the address changed before its link was followed")
	}
	env.Do("", verifyEmailOp, map[string]any{"t": secret}).Decode(t, &map[string]bool{})
	if whoAmI(env, tok) != next {
		t.Fatal("the address did not change")
	}
	signIn(t, env, next)
	if r := env.Do("", loginPairOp, map[string]any{"login": email, "pw": "correct horse battery"}); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("old address: %q", r.Code())
	}
	if r := env.Do(tok, resendOp, nil); r.Code() != "CONFLICT" || r.Ext("reason") != "ALREADY_VERIFIED" {
		t.Fatalf("resend when verified: %q %q", r.Code(), r.Ext("reason"))
	}
}

// An account whose e-mail was never verified (made before registrations
// waited for their link) signs in but cannot share its record until it
// follows a link.
func TestUnverifiedAccountCannotShareRecords(t *testing.T) {
	env, srv := mailEnv(t)
	doc, _ := env.Doctor("Dra. Partilha", "Cardiology", -23.5, -46.6)
	var docID struct{ Viewer struct{ ID string } }
	env.Do(doc, `{ viewer { ... on Doctor { id } } }`, nil).Decode(t, &docID)
	email := uniqueEmail("legacy")
	p, err := env.DB.Client.Patient.Create().SetName("Antiga").SetEmail(email).SetCpf(apptest.CPF()).
		SetPasswordHash("!unusable").Save(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := env.App.Issuer.IssueSession(fmt.Sprint(p.ID), "patient", "legacy-sign-in")
	if err != nil {
		t.Fatal(err)
	}
	share := map[string]any{"in": map[string]any{"doctorId": docID.Viewer.ID, "categories": []string{"EXAM"},
		"expiresAt": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)}}
	if r := env.Do(tok, shareOp, share); r.Code() != "FORBIDDEN" || r.Ext("reason") != "EMAIL_NOT_VERIFIED" {
		t.Fatalf("share before verifying: %q %q", r.Code(), r.Ext("reason"))
	}
	env.Do(tok, resendOp, nil).Decode(t, &map[string]bool{})
	secret := linkIn(t, mailTo(t, srv, email, "Confirme seu e-mail", 1), "verify-email")
	env.Do("", verifyEmailOp, map[string]any{"t": secret}).Decode(t, &map[string]bool{})
	if r := env.Do(tok, shareOp, share); r.Code() != "" {
		t.Fatalf("share after verifying: %+v", r.Errors)
	}
}

// A validation error names every bad field, the first as field.
func TestValidationErrorNamesEveryField(t *testing.T) {
	env := apptest.New(t)
	r := env.Do("", registerPatientOp, map[string]any{"in": map[string]any{
		"name": "Ok", "email": "not-an-address", "cpf": "111.111.111-12", "password": "short"}})
	if r.Code() != "BAD_USER_INPUT" || r.Ext("field") != "email" {
		t.Fatalf("%q %q", r.Code(), r.Ext("field"))
	}
	var fields []string
	for _, f := range r.Errors[0].Extensions["fields"].([]any) {
		fields = append(fields, f.(string))
	}
	if !slices.Equal(fields, []string{"email", "cpf", "password"}) {
		t.Fatalf("fields %v", fields)
	}
	// One bad field: fields names it alone.
	r = env.Do("", registerPatientOp, map[string]any{"in": newPatientInput("ok@example.com", "111.111.111-12")})
	if got := r.Errors[0].Extensions["fields"]; !reflect.DeepEqual(got, []any{"cpf"}) || r.Ext("field") != "cpf" {
		t.Fatalf("one field: %v", got)
	}
	rd := env.Do("", registerDoctorOp, map[string]any{"in": map[string]any{
		"name": " ", "email": "d@example.com", "password": "correct horse battery", "crm": "12/XX",
		"specialty": "Cardiology", "priceCents": -1, "location": map[string]any{"lat": 99, "lng": 0}}})
	got := rd.Errors[0].Extensions["fields"]
	if !reflect.DeepEqual(got, []any{"name", "crm", "priceCents", "location"}) || rd.Ext("field") != "name" {
		t.Fatalf("doctor: %v", got)
	}
}

// A registration's link works for 48 hours; past them the link opens
// nothing and the registration's sign-in ends.
func TestRegistrationLinkExpires(t *testing.T) {
	clk := &movableClock{}
	env, srv := mailEnv(t, apptest.WithApp(app.WithClock(clk.now)))
	email := uniqueEmail("late")
	var reg struct{ RegisterPatient pair }
	env.Do("", regPairOp, map[string]any{"in": newPatientInput(email, apptest.CPF())}).Decode(t, &reg)
	secret := linkIn(t, mailTo(t, srv, email, "Confirme seu e-mail", 1), "verify-email")
	clk.add(49 * time.Hour)
	if r := env.Do("", verifyEmailOp, map[string]any{"t": secret}); r.Code() != "BAD_USER_INPUT" || r.Ext("reason") != "INVALID_LINK" {
		t.Fatalf("expired link: %q %q", r.Code(), r.Ext("reason"))
	}
	if _, code := refresh(env, reg.RegisterPatient.RefreshToken); code != "UNAUTHENTICATED" {
		t.Fatalf("an expired registration's sign-in refreshed: %q", code)
	}
	if r := env.Do("", loginPairOp, map[string]any{"login": email, "pw": "correct horse battery"}); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("login: %q", r.Code())
	}
}
