package rule

import (
	"context"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/internal/viewer"
)

// AllowAppointmentParties lets a patient book for themself, and either
// party change only the appointments they are part of.
func AllowAppointmentParties() privacy.MutationRule {
	return privacy.AppointmentMutationRuleFunc(func(ctx context.Context, m *ent.AppointmentMutation) error {
		v := viewer.FromContext(ctx)
		switch {
		case m.Op().Is(ent.OpCreate):
			if id, ok := m.PatientID(); ok && v.IsPatient() && id == v.ID {
				return privacy.Allow
			}
			return privacy.Skip
		case m.Op().Is(ent.OpDelete) || m.Op().Is(ent.OpDeleteOne):
			// Appointments are history: they change status, never vanish.
			return privacy.Denyf("appointments cannot be deleted")
		case v.IsPatient():
			m.Where(appointment.PatientID(v.ID))
			return privacy.Allow
		case v.IsDoctor():
			m.Where(appointment.DoctorID(v.ID))
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// FilterAppointmentsForViewer shows each party their own appointments.
func FilterAppointmentsForViewer() privacy.QueryRule {
	return privacy.AppointmentQueryRuleFunc(func(ctx context.Context, q *ent.AppointmentQuery) error {
		v := viewer.FromContext(ctx)
		switch {
		case v.IsPatient():
			q.Where(appointment.PatientID(v.ID))
			return privacy.Allow
		case v.IsDoctor():
			q.Where(appointment.DoctorID(v.ID))
			return privacy.Allow
		}
		return privacy.Skip
	})
}
