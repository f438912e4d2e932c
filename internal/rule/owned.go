package rule

import (
	"context"

	"entgo.io/ent/dialect/sql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/internal/viewer"
)

// ownedMutation is what every mutation of a row owned by a doctor or a
// patient offers: the owner column on create, and extra predicates on
// update and delete.
type ownedMutation interface {
	Op() ent.Op
	WhereP(...func(*sql.Selector))
}

type doctorOwned interface {
	ownedMutation
	DoctorID() (int, bool)
}

type patientOwned interface {
	ownedMutation
	PatientID() (int, bool)
}

// AllowDoctorOwned lets a doctor create rows for themself and change or
// delete only their own: the ownership predicate goes into the UPDATE or
// DELETE statement itself, so a foreign row is simply not found, with no
// window between a check and the write.
func AllowDoctorOwned() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		v := viewer.FromContext(ctx)
		om, ok := m.(doctorOwned)
		if !ok || !v.IsDoctor() {
			return privacy.Skip
		}
		return own(om, v.ID, "doctor_id", om.DoctorID)
	})
}

// AllowPatientOwned is AllowDoctorOwned for rows a patient owns.
func AllowPatientOwned() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		v := viewer.FromContext(ctx)
		om, ok := m.(patientOwned)
		if !ok || !v.IsPatient() {
			return privacy.Skip
		}
		return own(om, v.ID, "patient_id", om.PatientID)
	})
}

func own(m ownedMutation, viewerID int, column string, owner func() (int, bool)) error {
	if m.Op().Is(ent.OpCreate) {
		if id, ok := owner(); ok && id == viewerID {
			return privacy.Allow
		}
		return privacy.Denyf("row belongs to someone else")
	}
	m.WhereP(sql.FieldEQ(column, viewerID))
	return privacy.Allow
}
