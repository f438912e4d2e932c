package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/internal/rule"
)

// Event is one change to an agenda or an appointment, written in the same
// transaction as the change, so the live updates can never announce
// something that did not happen nor miss something that did.
type Event struct{ ent.Schema }

func (Event) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").Immutable().Default(now),
		field.Enum("kind").Immutable().Values(
			"BOOKING_REQUESTED", "BOOKING_ACCEPTED", "BOOKING_REJECTED", "BOOKING_CANCELLED",
			"BOOKING_COMPLETED", "SLOT_CREATED", "SLOT_UPDATED", "SLOT_DELETED",
			"BOOKING_RESCHEDULED", "WAITLIST_OFFERED", "RESCHEDULE_PROPOSED", "RESCHEDULE_DECLINED"),
		// ord orders events by the commit of the transaction that wrote
		// them: a deferred trigger numbers a transaction's events as it
		// commits (see the event_order migration and internal/live), so
		// a long transaction holds no other event back. NULL until then.
		field.Int64("ord").Optional().Immutable(),
		field.Int("doctor_id").Immutable(),
		field.Int("patient_id").Optional().Nillable().Immutable(),
		field.Int("appointment_id").Optional().Nillable().Immutable(),
		field.Int("slot_id").Optional().Nillable().Immutable(),
		// waitlist_entry_id names the entry a WAITLIST_OFFERED event is
		// about; those events reach only the patient.
		field.Int("waitlist_entry_id").Optional().Nillable().Immutable(),
	}
}

func (Event) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("ord", "id"),
		index.Fields("doctor_id", "ord", "id"),
		index.Fields("patient_id", "ord", "id"),
		// Appointment.lastEventId.
		index.Fields("appointment_id", "ord", "id"),
	}
}

func (Event) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

func (Event) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{
			// Only the server writes events; they are never changed.
			rule.AllowIfSystem(),
			privacy.AlwaysDenyRule(),
		},
		Query: privacy.QueryPolicy{
			rule.AllowIfSystem(),
			privacy.AlwaysDenyRule(),
		},
	}
}
