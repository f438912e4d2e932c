package rule_test

import (
	"context"
	"errors"
	"testing"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/auditevent"
	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/internal/rule"
	"github.com/healthmed/healthmed/internal/viewer"
)

func TestAllowAuditAppend(t *testing.T) {
	client := ent.NewClient()
	doctor := viewer.Viewer{Role: viewer.Doctor, ID: 7}
	patient := viewer.Viewer{Role: viewer.Patient, ID: 9}
	row := func(role string, actor int, allowed bool, patientID int) ent.Mutation {
		c := client.AuditEvent.Create().SetAction(auditevent.ActionVIEW_METADATA).SetAllowed(allowed).SetActorRole(role)
		if actor != 0 {
			c.SetActorID(actor)
		}
		if patientID != 0 {
			c.SetPatientID(patientID)
		}
		return c.Mutation()
	}
	for _, tc := range []struct {
		name  string
		v     viewer.Viewer
		m     ent.Mutation
		allow bool
	}{
		{"doctor's view", doctor, row("doctor", 7, true, 9), true},
		{"doctor's refused look at a patient's record", doctor, row("doctor", 7, false, 9), true},
		{"doctor's refusal naming no patient", doctor, row("doctor", 7, false, 0), false},
		{"patient's own upload", patient, row("patient", 9, true, 9), true},
		{"patient's refused look", patient, row("patient", 9, false, 3), false},
		{"anonymous refused look", viewer.Viewer{}, row("anonymous", 0, false, 9), false},
		{"anonymous claiming a doctor", viewer.Viewer{}, row("doctor", 7, true, 9), false},
		{"doctor writing as another doctor", doctor, row("doctor", 8, true, 9), false},
		{"doctor writing as a patient", doctor, row("patient", 7, true, 9), false},
		{"system", viewer.Viewer{Role: viewer.System}, row("system", 0, true, 9), false},
		{"update", doctor, client.AuditEvent.UpdateOneID(1).Mutation(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := rule.AllowAuditAppend().EvalMutation(viewer.NewContext(context.Background(), tc.v), tc.m)
			if got := errors.Is(err, privacy.Allow); got != tc.allow {
				t.Fatalf("allowed %v (%v), want %v", got, err, tc.allow)
			}
			if !tc.allow && !errors.Is(err, privacy.Deny) {
				t.Fatalf("refusal %v is not a deny", err)
			}
		})
	}
}
