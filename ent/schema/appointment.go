package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/healthmed/healthmed/ent/event"
	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/internal/address"
	"github.com/healthmed/healthmed/internal/billing"
	"github.com/healthmed/healthmed/internal/coverage"
	"github.com/healthmed/healthmed/internal/live"
	"github.com/healthmed/healthmed/internal/notify"
	"github.com/healthmed/healthmed/internal/rule"
	"github.com/healthmed/healthmed/internal/waitlist"
)

// Appointment is a patient's booking of a slot. At most one active
// (REQUESTED or ACCEPTED) appointment holds a slot, which a partial unique
// index guarantees whatever the concurrency.
type Appointment struct{ ent.Schema }

func (Appointment) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

func (Appointment) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("status").
			Values("REQUESTED", "ACCEPTED", "REJECTED", "CANCELLED", "COMPLETED").
			Default("REQUESTED"),
		// slot_id, starts_at and ends_at change only when the patient
		// reschedules (internal/agenda/reschedule.go): the appointment
		// keeps its identity, history, invoice and notices.
		field.Int("slot_id").Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("doctor_id").Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("patient_id").Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("starts_at").
			Annotations(entgql.OrderField("STARTS_AT")),
		field.Time("ends_at"),
		field.Int("price_cents").NonNegative().Immutable(),
		// no_show marks a COMPLETED consultation the patient did not attend:
		// the contract's statuses stay as they are, and the slot's time is
		// invoiced all the same.
		field.Bool("no_show").Default(false),
		field.String("cancel_reason").Optional().Nillable().MaxLen(500),
		field.String("reject_reason").Optional().Nillable().MaxLen(500),
		field.String("meeting_url").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("meeting_starts_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("meeting_ends_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		// address is where the doctor received patients when the booking
		// was made: a doctor who moves later does not move it.
		field.JSON("address", &address.Address{}).Optional().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		// proposed_slot_id is a new time the doctor proposed, until the
		// patient accepts (the appointment moves there) or declines it.
		field.Int("proposed_slot_id").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("idempotency_key").Optional().Nillable().MaxLen(100).Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

func (Appointment) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("slot", Slot.Type).Ref("appointments").Field("slot_id").
			Unique().Required(),
		edge.From("doctor", Doctor.Type).Ref("appointments").Field("doctor_id").
			Unique().Required().Immutable(),
		edge.From("patient", Patient.Type).Ref("appointments").Field("patient_id").
			Unique().Required().Immutable(),
	}
}

func (Appointment) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("doctor_id", "starts_at"),
		index.Fields("patient_id", "starts_at"),
		index.Fields("patient_id", "idempotency_key").Unique(),
	}
}

func (Appointment) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

// Interceptors: whatever lists appointments (a page, a doctor's agenda,
// an edge), the invoices and coverage checks the response then asks of
// them are read in one statement each.
func (Appointment) Interceptors() []ent.Interceptor {
	return []ent.Interceptor{onAppointmentsRead()}
}

// Hooks are what else an appointment's move does, whoever makes it (a
// resolver, the clinic job, a script), in the writer's transaction and in
// this order; see onMoves for what counts as a move.
func (Appointment) Hooks() []ent.Hook {
	return []ent.Hook{
		onMoves(
			// Booked: the coverage check of the patient's plan, asked of
			// the operator once the booking commits.
			on(event.KindBOOKING_REQUESTED, coverage.Booked),
			// Completed (a no-show too): the invoice.
			on(event.KindBOOKING_COMPLETED, billing.Completed),
			// Every move is a live event on both parties' subscriptions...
			live.AppointmentChanged,
			// ...and the notices it calls for, e-mailed after commit.
			notify.AppointmentChanged,
			// A slot freed before its time goes to the first in its
			// doctor's waitlist, held for them.
			on(event.KindBOOKING_CANCELLED, waitlist.AppointmentEnded),
			on(event.KindBOOKING_REJECTED, waitlist.AppointmentEnded),
		),
		// A reschedule is a move of its own: both parties see it live
		// and by e-mail, and the slot it left goes to the waitlist.
		onReschedules(
			rescheduled(live.AppointmentChanged),
			rescheduled(notify.AppointmentChanged),
			waitlist.RescheduledAway,
		),
		// A time the doctor proposes, and the patient's refusal of it,
		// are told to the other party, live and by e-mail.
		onProposals(
			live.AppointmentChanged,
			notify.AppointmentChanged,
		),
	}
}

func (Appointment) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{
			rule.AllowIfSystem(),
			rule.AllowAppointmentParties(),
			privacy.AlwaysDenyRule(),
		},
		Query: privacy.QueryPolicy{
			rule.AllowIfSystem(),
			rule.FilterAppointmentsForViewer(),
			privacy.AlwaysDenyRule(),
		},
	}
}
