package rule

import (
	"context"

	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/entql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/ent/recordfile"
	"github.com/healthmed/healthmed/internal/viewer"
)

// FilterInvoicesForViewer shows an invoice to its patient and its doctor
// only.
func FilterInvoicesForViewer() privacy.QueryRule { return filterParties(true, true) }

// FilterCoverageForViewer shows a coverage check to the patient and the
// doctor of the appointment it is about.
func FilterCoverageForViewer() privacy.QueryRule { return filterParties(true, true) }

// FilterInsurancePlansForViewer shows a patient their own plan; nobody
// else reads it through the API.
func FilterInsurancePlansForViewer() privacy.QueryRule { return filterParties(true, false) }

func filterParties(patient, doctor bool) privacy.QueryRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		v := viewer.FromContext(ctx)
		switch {
		case patient && v.IsPatient():
			f.Where(entql.FieldEQ("patient_id", v.ID))
			return privacy.Allow
		case doctor && v.IsDoctor():
			f.Where(entql.FieldEQ("doctor_id", v.ID))
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// AllowInvoiceSettlement lets a doctor change the status of their own
// invoices, and nothing else: they cannot issue or delete one. The
// ownership predicate goes into the UPDATE itself.
func AllowInvoiceSettlement() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		v := viewer.FromContext(ctx)
		om, ok := m.(ownedMutation)
		if !ok || !v.IsDoctor() || !(m.Op().Is(ent.OpUpdateOne) || m.Op().Is(ent.OpUpdate)) {
			return privacy.Skip
		}
		om.WhereP(sql.FieldEQ("doctor_id", v.ID))
		return privacy.Allow
	})
}

// AllowDoctorConsultationReport lets a doctor add a REPORT to the record
// of a patient they have a completed appointment with. It allows the
// creation only: the file is the patient's from then on.
func AllowDoctorConsultationReport() privacy.MutationRule {
	return privacy.RecordFileMutationRuleFunc(func(ctx context.Context, m *ent.RecordFileMutation) error {
		v := viewer.FromContext(ctx)
		if !v.IsDoctor() || !m.Op().Is(ent.OpCreate) {
			return privacy.Skip
		}
		patientID, ok := m.PatientID()
		if cat, cok := m.Category(); !ok || !cok || cat != recordfile.CategoryREPORT {
			return privacy.Skip
		}
		done, err := m.Client().Appointment.Query().Where(
			appointment.DoctorID(v.ID), appointment.PatientID(patientID),
			appointment.StatusEQ(appointment.StatusCOMPLETED),
		).Exist(viewer.SystemContext(ctx))
		switch {
		case err != nil:
			return privacy.Denyf("checking the appointment: %v", err)
		case done:
			return privacy.Allow
		}
		return privacy.Skip
	})
}
