package agenda

import (
	"context"
	"time"

	"entgo.io/contrib/entgql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/scalar"
)

// AppointmentFilter holds the arguments of Query.appointments.
type AppointmentFilter struct {
	Status   []appointment.Status
	From, To *time.Time
	First    *int
	After    *entgql.Cursor[int]
}

// Appointments lists the viewer's own appointments, soonest first; the
// privacy filter decides whose they are.
func (s *Service) Appointments(ctx context.Context, f AppointmentFilter) (*ent.AppointmentConnection, error) {
	first, err := gqlerr.Page(f.First, 20, 100)
	if err != nil {
		return nil, err
	}
	if err := scalar.Expect(f.After, scalar.KindTime); err != nil {
		return nil, err
	}
	q := s.Client.Appointment.Query()
	if len(f.Status) > 0 {
		q.Where(appointment.StatusIn(f.Status...))
	}
	if f.From != nil {
		q.Where(appointment.StartsAtGTE(*f.From))
	}
	if f.To != nil {
		q.Where(appointment.StartsAtLT(*f.To))
	}
	return q.Paginate(ctx, f.After, &first, nil, nil,
		ent.WithAppointmentOrder(&ent.AppointmentOrder{Direction: entgql.OrderDirectionAsc, Field: ent.AppointmentOrderFieldStartsAt}))
}
