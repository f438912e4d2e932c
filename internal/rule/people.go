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

// AllowDoctorSelfMutation lets a doctor change their own profile only,
// and never vouch for their own e-mail.
func AllowDoctorSelfMutation() privacy.MutationRule {
	return privacy.DoctorMutationRuleFunc(func(ctx context.Context, m *ent.DoctorMutation) error {
		v := viewer.FromContext(ctx)
		if _, set := m.EmailVerifiedAt(); set {
			return privacy.Denyf("only the server verifies an e-mail")
		}
		if id, ok := m.ID(); ok && v.IsDoctor() && id == v.ID && m.Op().Is(ent.OpUpdateOne) {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// AllowPatientSelfMutation lets a patient change their own account only,
// and never vouch for their own e-mail.
func AllowPatientSelfMutation() privacy.MutationRule {
	return privacy.PatientMutationRuleFunc(func(ctx context.Context, m *ent.PatientMutation) error {
		v := viewer.FromContext(ctx)
		if _, set := m.EmailVerifiedAt(); set {
			return privacy.Denyf("only the server verifies an e-mail")
		}
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

// AllowOwnExternalLink lets a signed-in doctor, patient or administrator
// link an external identity to their own account, and to no other.
func AllowOwnExternalLink() privacy.MutationRule {
	return privacy.ExternalIdentityMutationRuleFunc(func(ctx context.Context, m *ent.ExternalIdentityMutation) error {
		v := viewer.FromContext(ctx)
		role, _ := m.Role()
		account, ok := m.AccountID()
		if m.Op().Is(ent.OpCreate) && v.ID != 0 && (v.IsDoctor() || v.IsPatient() || v.IsAdmin()) &&
			ok && account == v.ID && string(role) == v.Role.String() {
			return privacy.Allow
		}
		return privacy.Skip
	})
}
