package rule

import (
	"context"
	"slices"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/doctor"
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
	return recordshare.And(recordshare.DoctorID(doctorID), LiveShare())
}

// LiveShare matches the shares neither revoked nor expired at the moment
// the query runs, whoever they name: for a doctor's own query, whose
// privacy rule already keeps the shares to that doctor's.
func LiveShare() predicate.RecordShare {
	return recordshare.And(recordshare.RevokedAtIsNil(), recordshare.ExpiresAtGT(time.Now()))
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

// DenyDoctorCredentialChanges keeps the CRM and the clinic's verification
// of it out of a doctor's own hands: a registration starts PENDING, and
// only an administrator (AllowDoctorReview) or the server itself moves the
// verification or corrects a CRM afterwards.
func DenyDoctorCredentialChanges() privacy.MutationRule {
	return privacy.DoctorMutationRuleFunc(func(ctx context.Context, m *ent.DoctorMutation) error {
		if v := viewer.FromContext(ctx); v.IsAdmin() || v.IsSystem() {
			return privacy.Skip
		}
		if m.Op().Is(ent.OpCreate) {
			if s, set := m.Verification(); set && s != doctor.VerificationPENDING {
				return privacy.Denyf("a doctor registers unverified")
			}
			if _, set := m.VerificationNote(); set {
				return privacy.Denyf("a doctor registers unverified")
			}
			return privacy.Skip
		}
		for _, f := range reviewedDoctorFields {
			if _, set := m.Field(f); set || m.FieldCleared(f) {
				return privacy.Denyf("only an administrator changes a doctor's %s", f)
			}
		}
		return privacy.Skip
	})
}

// reviewedDoctorFields are the columns an administrator's review owns.
var reviewedDoctorFields = []string{
	doctor.FieldVerification, doctor.FieldVerificationNote, doctor.FieldCrmNumber, doctor.FieldCrmState,
}

// AllowDoctorReview lets an administrator change one doctor's verification
// or correct their CRM, and nothing else of the profile.
func AllowDoctorReview() privacy.MutationRule {
	return privacy.DoctorMutationRuleFunc(func(ctx context.Context, m *ent.DoctorMutation) error {
		if !viewer.FromContext(ctx).IsAdmin() || !m.Op().Is(ent.OpUpdateOne) {
			return privacy.Skip
		}
		allowed := append([]string{doctor.FieldUpdatedAt}, reviewedDoctorFields...)
		for _, f := range append(m.Fields(), m.ClearedFields()...) {
			if !slices.Contains(allowed, f) {
				return privacy.Denyf("an administrator does not edit a doctor's %s", f)
			}
		}
		return privacy.Allow
	})
}

// DenyPatientCPFChanges keeps a CPF as registered: the patient cannot
// change the identifier their records and invoices are kept under; only
// the server itself may correct one.
func DenyPatientCPFChanges() privacy.MutationRule {
	return privacy.PatientMutationRuleFunc(func(ctx context.Context, m *ent.PatientMutation) error {
		if m.Op().Is(ent.OpCreate) || viewer.FromContext(ctx).IsSystem() {
			return privacy.Skip
		}
		if _, set := m.Cpf(); set {
			return privacy.Denyf("a CPF is not changed")
		}
		return privacy.Skip
	})
}

// SeesDoctorVerification says whether v may read where the clinic's check
// of doctor id's CRM stands: the doctor themself and the administrators.
func SeesDoctorVerification(v viewer.Viewer, id int) bool {
	return v.IsAdmin() || v.IsSystem() || (v.IsDoctor() && v.ID == id)
}
