package apptest

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/accounttoken"
	"github.com/healthmed/healthmed/internal/acctoken"

	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/internal/validate"
	"github.com/healthmed/healthmed/internal/viewer"
)

var seq atomic.Int64

// CPF returns a valid CPF unique within the test binary.
func CPF() string {
	return validate.CompleteCPF(fmt.Sprintf("%09d", (100000000+seq.Add(1)*7919)%1000000000))
}

const registerPatient = `mutation($in: RegisterPatientInput!) { registerPatient(input: $in) { token refreshToken } }`
const registerDoctor = `mutation($in: RegisterDoctorInput!) { registerDoctor(input: $in) { token refreshToken } }`

// Patient registers a patient, follows the link e-mailed to them and
// returns the account's token.
func (e *Env) Patient(name string) (token string, cpf string, email string) {
	e.T.Helper()
	n := seq.Add(1)
	cpf, email = CPF(), fmt.Sprintf("patient%d@example.com", n)
	r := e.Do("", registerPatient, map[string]any{"in": map[string]any{
		"name": name, "email": email, "cpf": cpf, "password": "correct horse battery",
	}})
	var out struct{ RegisterPatient struct{ RefreshToken string } }
	r.Decode(e.T, &out)
	return e.Complete(e.T, email, out.RegisterPatient.RefreshToken), cpf, email
}

// Doctor registers a doctor at lat/lng, follows the link e-mailed to
// them, has the clinic verify their CRM (patients find and book verified
// doctors only) and returns the account's token and CRM.
func (e *Env) Doctor(name, specialty string, lat, lng float64) (token string, crm string) {
	e.T.Helper()
	token, crm = e.PendingDoctor(name, specialty, lat, lng)
	e.VerifyDoctor(crm)
	return token, crm
}

// VerifyDoctor marks the doctor with the CRM (number/state) verified, as
// an administrator would after checking the registry.
func (e *Env) VerifyDoctor(crm string) {
	e.T.Helper()
	number, state, err := validate.CRM(crm)
	if err != nil {
		e.T.Fatal(err)
	}
	if err := e.DB.Client.Doctor.Update().Where(doctor.CrmNumber(number), doctor.CrmState(state)).
		SetVerification(doctor.VerificationVERIFIED).Exec(viewer.SystemContext(context.Background())); err != nil {
		e.T.Fatal(err)
	}
}

// PendingDoctor registers a doctor at lat/lng whose CRM the clinic has
// not checked yet, and returns the token and CRM.
func (e *Env) PendingDoctor(name, specialty string, lat, lng float64) (token string, crm string) {
	e.T.Helper()
	n := seq.Add(1)
	crm = fmt.Sprintf("%d/SP", 500000+n)
	email := fmt.Sprintf("doctor%d@example.com", n)
	r := e.Do("", registerDoctor, map[string]any{"in": map[string]any{
		"name": name, "email": email, "password": "correct horse battery",
		"crm": crm, "specialty": specialty, "priceCents": 25000,
		"location": map[string]any{"lat": lat, "lng": lng},
	}})
	var out struct{ RegisterDoctor struct{ RefreshToken string } }
	r.Decode(e.T, &out)
	return e.Complete(e.T, email, out.RegisterDoctor.RefreshToken), crm
}

// Complete follows the newest verification link sent to email, as its
// reader would, and exchanges the registration's refresh token for the
// account's sign-in: it returns the account's access token.
func (e *Env) Complete(t testing.TB, email, refresh string) string {
	t.Helper()
	r := e.Do("", `mutation($t: String!) { verifyEmail(token: $t) }`, map[string]any{"t": e.LinkSecret(t, email, "VERIFY_EMAIL")})
	var verified struct{ VerifyEmail bool }
	r.Decode(t, &verified)
	r = e.Do("", `mutation($r: String!) { refreshSession(refreshToken: $r) { token } }`, map[string]any{"r": refresh})
	var out struct{ RefreshSession struct{ Token string } }
	r.Decode(t, &out)
	return out.RefreshSession.Token
}

// LinkSecret is the secret of the newest link of purpose (VERIFY_EMAIL,
// RESET_PASSWORD) sent to email, derived as the e-mail worker does: the
// database has only its nonce and digest.
func (e *Env) LinkSecret(t testing.TB, email, purpose string) string {
	t.Helper()
	tok, err := e.DB.Client.AccountToken.Query().
		Where(accounttoken.Email(email), accounttoken.PurposeEQ(accounttoken.Purpose(purpose))).
		Order(ent.Desc(accounttoken.FieldID)).First(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatalf("no %s link to %s: %v", purpose, email, err)
	}
	return acctoken.Key(e.Config.LinkSecret).Secret(tok.Nonce)
}

// PatientToken creates a patient straight in the database and mints a
// token for it, for tests that need many patients: registration's
// password hashing would dominate them.
func (e *Env) PatientToken(t testing.TB, name string) string {
	t.Helper()
	n := seq.Add(1)
	p, err := e.DB.Client.Patient.Create().SetName(name).SetEmail(fmt.Sprintf("bulk%d@example.com", n)).
		SetCpf(CPF()).SetPasswordHash("!unusable").SetEmailVerifiedAt(time.Now()).Save(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := e.App.Issuer.IssueSession(strconv.Itoa(p.ID), "patient", fmt.Sprintf("bulk-sign-in-%d", n))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// AdminToken creates a clinic administrator straight in the database and
// mints a token for it.
func (e *Env) AdminToken(t testing.TB, name string) string {
	t.Helper()
	n := seq.Add(1)
	a, err := e.DB.Client.Admin.Create().SetName(name).SetEmail(fmt.Sprintf("admin%d@example.com", n)).
		SetPasswordHash("!unusable").Save(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := e.App.Issuer.IssueSession(strconv.Itoa(a.ID), "admin", fmt.Sprintf("admin-sign-in-%d", n))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
