package rule_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/externalidentity"
	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/internal/rule"
	"github.com/healthmed/healthmed/internal/viewer"
)

// decision is what a rule said: allow, deny or skip.
func decision(err error) string {
	switch {
	case errors.Is(err, privacy.Allow):
		return "allow"
	case errors.Is(err, privacy.Deny):
		return "deny"
	case errors.Is(err, privacy.Skip):
		return "skip"
	}
	return "error: " + err.Error()
}

func TestAllowOwnExternalLink(t *testing.T) {
	client := ent.NewClient()
	link := func(role externalidentity.Role, account int) ent.Mutation {
		return client.ExternalIdentity.Create().SetIssuer("https://idp.example").SetSubject("s").
			SetRole(role).SetAccountID(account).Mutation()
	}
	patient := viewer.Viewer{Role: viewer.Patient, ID: 9}
	for _, tc := range []struct {
		name string
		v    viewer.Viewer
		m    ent.Mutation
		want string
	}{
		{"patient, own account", patient, link(externalidentity.RolePatient, 9), "allow"},
		{"doctor, own account", viewer.Viewer{Role: viewer.Doctor, ID: 9}, link(externalidentity.RoleDoctor, 9), "allow"},
		{"admin, own account", viewer.Viewer{Role: viewer.Admin, ID: 9}, link(externalidentity.RoleAdmin, 9), "allow"},
		{"patient, another patient", patient, link(externalidentity.RolePatient, 10), "skip"},
		{"patient, a doctor with the same id", patient, link(externalidentity.RoleDoctor, 9), "skip"},
		{"anonymous", viewer.Viewer{}, link(externalidentity.RolePatient, 0), "skip"},
		{"system is another rule's business", viewer.Viewer{Role: viewer.System}, link(externalidentity.RolePatient, 9), "skip"},
		{"update of a link", patient, client.ExternalIdentity.UpdateOneID(1).Mutation(), "skip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := decision(rule.AllowOwnExternalLink().EvalMutation(viewer.NewContext(context.Background(), tc.v), tc.m))
			if got != tc.want {
				t.Fatalf("%s, want %s", got, tc.want)
			}
		})
	}
}

// TestSelfMutationNeverVerifiesOwnEmail: an account may change itself,
// but only the server vouches for its e-mail.
func TestSelfMutationNeverVerifiesOwnEmail(t *testing.T) {
	client := ent.NewClient()
	patient := viewer.Viewer{Role: viewer.Patient, ID: 9}
	doctor := viewer.Viewer{Role: viewer.Doctor, ID: 9}
	for _, tc := range []struct {
		name string
		v    viewer.Viewer
		r    privacy.MutationRule
		m    ent.Mutation
		want string
	}{
		{"patient renames", patient, rule.AllowPatientSelfMutation(), client.Patient.UpdateOneID(9).SetName("x").Mutation(), "allow"},
		{"patient verifies own e-mail", patient, rule.AllowPatientSelfMutation(),
			client.Patient.UpdateOneID(9).SetEmailVerifiedAt(time.Now()).Mutation(), "deny"},
		{"patient drops own verification", patient, rule.AllowPatientSelfMutation(),
			client.Patient.UpdateOneID(9).ClearEmailVerifiedAt().Mutation(), "allow"},
		{"patient changes another", patient, rule.AllowPatientSelfMutation(), client.Patient.UpdateOneID(10).SetName("x").Mutation(), "skip"},
		{"doctor renames", doctor, rule.AllowDoctorSelfMutation(), client.Doctor.UpdateOneID(9).SetName("x").Mutation(), "allow"},
		{"doctor verifies own e-mail", doctor, rule.AllowDoctorSelfMutation(),
			client.Doctor.UpdateOneID(9).SetEmailVerifiedAt(time.Now()).Mutation(), "deny"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := decision(tc.r.EvalMutation(viewer.NewContext(context.Background(), tc.v), tc.m))
			if got != tc.want {
				t.Fatalf("%s, want %s", got, tc.want)
			}
		})
	}
}
