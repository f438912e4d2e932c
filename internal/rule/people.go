package rule

import (
	"context"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/patient"
	"github.com/healthmed/healthmed/ent/predicate"
	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/ent/recordshare"
	"github.com/healthmed/healthmed/internal/viewer"
)

// AllowDoctorSelfMutation lets a doctor change their own profile only.
func AllowDoctorSelfMutation() privacy.MutationRule {
	return privacy.DoctorMutationRuleFunc(func(ctx context.Context, m *ent.DoctorMutation) error {
		v := viewer.FromContext(ctx)
		if id, ok := m.ID(); ok && v.IsDoctor() && id == v.ID && m.Op().Is(ent.OpUpdateOne) {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// AllowPatientSelfMutation lets a patient change their own account only.
func AllowPatientSelfMutation() privacy.MutationRule {
	return privacy.PatientMutationRuleFunc(func(ctx context.Context, m *ent.PatientMutation) error {
		v := viewer.FromContext(ctx)
		if id, ok := m.ID(); ok && v.IsPatient() && id == v.ID && m.Op().Is(ent.OpUpdateOne) {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// FilterPatientsForViewer narrows patient reads to the patient themself, or
// for a doctor to the patients they have an appointment with or a live
// record share from.
func FilterPatientsForViewer() privacy.QueryRule {
	return privacy.PatientQueryRuleFunc(func(ctx context.Context, q *ent.PatientQuery) error {
		v := viewer.FromContext(ctx)
		switch {
		case v.IsPatient():
			q.Where(patient.ID(v.ID))
			return privacy.Allow
		case v.IsDoctor():
			q.Where(patient.Or(
				patient.HasAppointmentsWith(appointment.DoctorID(v.ID)),
				patient.HasSharesWith(LiveShareOf(v.ID)),
			))
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// LiveShareOf matches the shares granted to a doctor that are neither
// revoked nor expired at the moment the query runs.
func LiveShareOf(doctorID int) predicate.RecordShare {
	return recordshare.And(
		recordshare.DoctorID(doctorID),
		recordshare.RevokedAtIsNil(),
		recordshare.ExpiresAtGT(time.Now()),
	)
}
