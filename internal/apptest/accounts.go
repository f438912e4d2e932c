package apptest

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/internal/validate"
	"github.com/healthmed/healthmed/internal/viewer"
)

var seq atomic.Int64

// CPF returns a valid CPF unique within the test binary.
func CPF() string {
	return validate.CompleteCPF(fmt.Sprintf("%09d", (100000000+seq.Add(1)*7919)%1000000000))
}

const registerPatient = `mutation($in: RegisterPatientInput!) { registerPatient(input: $in) { token expiresAt } }`
const registerDoctor = `mutation($in: RegisterDoctorInput!) { registerDoctor(input: $in) { token expiresAt } }`

// Patient registers a patient and returns the token.
func (e *Env) Patient(name string) (token string, cpf string, email string) {
	e.T.Helper()
	n := seq.Add(1)
	cpf, email = CPF(), fmt.Sprintf("patient%d@example.com", n)
	r := e.Do("", registerPatient, map[string]any{"in": map[string]any{
		"name": name, "email": email, "cpf": cpf, "password": "correct horse battery",
	}})
	var out struct{ RegisterPatient struct{ Token string } }
	r.Decode(e.T, &out)
	return out.RegisterPatient.Token, cpf, email
}

// Doctor registers a doctor at lat/lng, has the clinic verify their CRM
// (patients find and book verified doctors only) and returns the token
// and CRM.
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
	r := e.Do("", registerDoctor, map[string]any{"in": map[string]any{
		"name": name, "email": fmt.Sprintf("doctor%d@example.com", n), "password": "correct horse battery",
		"crm": crm, "specialty": specialty, "priceCents": 25000,
		"location": map[string]any{"lat": lat, "lng": lng},
	}})
	var out struct{ RegisterDoctor struct{ Token string } }
	r.Decode(e.T, &out)
	return out.RegisterDoctor.Token, crm
}

// PatientToken creates a patient straight in the database and mints a
// token for it, for tests that need many patients: registration's
// password hashing would dominate them.
func (e *Env) PatientToken(t testing.TB, name string) string {
	t.Helper()
	n := seq.Add(1)
	p, err := e.DB.Client.Patient.Create().SetName(name).SetEmail(fmt.Sprintf("bulk%d@example.com", n)).
		SetCpf(CPF()).SetPasswordHash("!unusable").Save(viewer.SystemContext(context.Background()))
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
