package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
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
			"BOOKING_COMPLETED", "SLOT_CREATED", "SLOT_UPDATED", "SLOT_DELETED"),
		// txid orders events by the transaction that wrote them. Readers
		// deliver only events of transactions older than every running
		// one, so a transaction that commits late cannot be skipped.
		field.Int64("txid").Optional().Immutable().
			Annotations(entsql.DefaultExpr("(pg_current_xact_id()::text)::bigint")),
		field.Int("doctor_id").Immutable(),
		field.Int("patient_id").Optional().Nillable().Immutable(),
		field.Int("appointment_id").Optional().Nillable().Immutable(),
		field.Int("slot_id").Optional().Nillable().Immutable(),
	}
}

func (Event) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("txid", "id"),
		index.Fields("doctor_id", "txid", "id"),
		index.Fields("patient_id", "txid", "id"),
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
