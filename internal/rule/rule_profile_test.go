package rule_test

import (
	"context"
	"testing"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/internal/rule"
	"github.com/healthmed/healthmed/internal/viewer"
)

// TestDoctorCredentialsAreTheAdministrators': a doctor edits the profile
// but neither the CRM nor its verification; a registration starts
// unverified; an administrator changes those and nothing else.
func TestDoctorCredentialsAreTheAdministrators(t *testing.T) {
	client := ent.NewClient()
	self := viewer.Viewer{Role: viewer.Doctor, ID: 9}
	admin := viewer.Viewer{Role: viewer.Admin, ID: 1}
	patient := viewer.Viewer{Role: viewer.Patient, ID: 9}
	system := viewer.Viewer{Role: viewer.System}
	upd := func() *ent.DoctorUpdateOne { return client.Doctor.UpdateOneID(9) }
	register := func(s doctor.Verification) ent.Mutation {
		c := client.Doctor.Create().SetName("x").SetCrmNumber("1").SetCrmState("SP")
		if s != "" {
			c.SetVerification(s)
		}
		return c.Mutation()
	}
	deny, allow := rule.DenyDoctorCredentialChanges(), rule.AllowDoctorReview()
	for _, tc := range []struct {
		name string
		v    viewer.Viewer
		r    privacy.MutationRule
		m    ent.Mutation
		want string
	}{
		{"doctor edits the bio", self, deny, upd().SetBio("x").Mutation(), "skip"},
		{"doctor verifies themself", self, deny, upd().SetVerification(doctor.VerificationVERIFIED).Mutation(), "deny"},
		{"doctor clears a rejection's reason", self, deny, upd().ClearVerificationNote().Mutation(), "deny"},
		{"doctor changes the CRM number", self, deny, upd().SetCrmNumber("2").Mutation(), "deny"},
		{"doctor changes the CRM state", self, deny, upd().SetCrmState("RJ").Mutation(), "deny"},
		{"patient touches a verification", patient, deny, upd().SetVerification(doctor.VerificationREJECTED).Mutation(), "deny"},
		{"registration, default", viewer.Viewer{}, deny, register(""), "skip"},
		{"registration, pending", viewer.Viewer{}, deny, register(doctor.VerificationPENDING), "skip"},
		{"registration, verified", viewer.Viewer{}, deny, register(doctor.VerificationVERIFIED), "deny"},
		{"admin verifies", admin, deny, upd().SetVerification(doctor.VerificationVERIFIED).Mutation(), "skip"},
		{"system verifies (the seed)", system, deny, upd().SetVerification(doctor.VerificationVERIFIED).Mutation(), "skip"},

		{"admin verifies", admin, allow, upd().SetVerification(doctor.VerificationVERIFIED).ClearVerificationNote().Mutation(), "allow"},
		{"admin rejects with a reason", admin, allow, upd().SetVerification(doctor.VerificationREJECTED).SetVerificationNote("no").Mutation(), "allow"},
		{"admin corrects a CRM", admin, allow, upd().SetCrmNumber("123").SetCrmState("RJ").Mutation(), "allow"},
		{"admin edits the price", admin, allow, upd().SetPriceCents(1).Mutation(), "deny"},
		{"admin verifies and renames", admin, allow, upd().SetVerification(doctor.VerificationVERIFIED).SetName("x").Mutation(), "deny"},
		{"admin, every doctor at once", admin, allow, client.Doctor.Update().SetVerification(doctor.VerificationVERIFIED).Mutation(), "skip"},
		{"doctor is no admin", self, allow, upd().SetVerification(doctor.VerificationVERIFIED).Mutation(), "skip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := decision(tc.r.EvalMutation(viewer.NewContext(context.Background(), tc.v), tc.m))
			if got != tc.want {
				t.Fatalf("%s, want %s", got, tc.want)
			}
		})
	}
}

func TestPatientCPFIsNotChanged(t *testing.T) {
	client := ent.NewClient()
	for _, tc := range []struct {
		name string
		v    viewer.Viewer
		m    ent.Mutation
		want string
	}{
		{"patient edits the phone", viewer.Viewer{Role: viewer.Patient, ID: 9}, client.Patient.UpdateOneID(9).SetPhone("+5511912345678").Mutation(), "skip"},
		{"patient changes the CPF", viewer.Viewer{Role: viewer.Patient, ID: 9}, client.Patient.UpdateOneID(9).SetCpf("52998224725").Mutation(), "deny"},
		{"admin changes a CPF", viewer.Viewer{Role: viewer.Admin, ID: 1}, client.Patient.UpdateOneID(9).SetCpf("52998224725").Mutation(), "deny"},
		{"registration sets it", viewer.Viewer{}, client.Patient.Create().SetCpf("52998224725").Mutation(), "skip"},
		{"the server corrects it", viewer.Viewer{Role: viewer.System}, client.Patient.UpdateOneID(9).SetCpf("52998224725").Mutation(), "skip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := decision(rule.DenyPatientCPFChanges().EvalMutation(viewer.NewContext(context.Background(), tc.v), tc.m))
			if got != tc.want {
				t.Fatalf("%s, want %s", got, tc.want)
			}
		})
	}
}

func TestSeesDoctorVerification(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    viewer.Viewer
		want bool
	}{
		{"the doctor", viewer.Viewer{Role: viewer.Doctor, ID: 9}, true},
		{"an administrator", viewer.Viewer{Role: viewer.Admin, ID: 1}, true},
		{"the server", viewer.Viewer{Role: viewer.System}, true},
		{"another doctor", viewer.Viewer{Role: viewer.Doctor, ID: 10}, false},
		{"a patient with the same id", viewer.Viewer{Role: viewer.Patient, ID: 9}, false},
		{"anonymous", viewer.Viewer{}, false},
		{"an admin without an id", viewer.Viewer{Role: viewer.Admin}, false},
	} {
		if got := rule.SeesDoctorVerification(tc.v, 9); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
