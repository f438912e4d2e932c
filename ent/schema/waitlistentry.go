package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/internal/rule"
)

// WaitlistEntry is a patient waiting for a slot of one doctor to free up,
// optionally only for slots starting within [from, to). The line is
// ordered by created_at, then id. A patient has at most one WAITING entry
// per doctor (a partial unique index in the hand-written migration).
type WaitlistEntry struct{ ent.Schema }

func (WaitlistEntry) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

func (WaitlistEntry) Fields() []ent.Field {
	skip := entgql.Skip(entgql.SkipAll)
	return []ent.Field{
		field.Int("doctor_id").Immutable().Annotations(skip),
		field.Int("patient_id").Immutable().Annotations(skip),
		field.Time("from").Optional().Nillable().Immutable().StorageKey("range_from"),
		field.Time("to").Optional().Nillable().Immutable().StorageKey("range_to"),
		// WAITING is in line; BOOKED took an offered slot; LEFT left.
		field.Enum("status").Values("WAITING", "BOOKED", "LEFT").Default("WAITING"),
	}
}

func (WaitlistEntry) Edges() []ent.Edge {
	skip := entgql.Skip(entgql.SkipAll)
	cascade := entsql.OnDelete(entsql.Cascade)
	return []ent.Edge{
		edge.To("doctor", Doctor.Type).Field("doctor_id").Unique().Required().Immutable().
			Annotations(cascade),
		edge.To("patient", Patient.Type).Field("patient_id").Unique().Required().Immutable().
			Annotations(skip, cascade),
		edge.To("offers", WaitlistOffer.Type).Annotations(skip, cascade),
	}
}

func (WaitlistEntry) Indexes() []ent.Index {
	return []ent.Index{
		// The line of a doctor, first come first.
		index.Fields("doctor_id", "status", "created_at"),
		index.Fields("patient_id", "status"),
	}
}

func (WaitlistEntry) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{
			rule.AllowIfSystem(),
			rule.AllowWaitlistJoinAndLeave(),
			privacy.AlwaysDenyRule(),
		},
		Query: privacy.QueryPolicy{
			rule.AllowIfSystem(),
			rule.FilterWaitlistForPatient(),
			privacy.AlwaysDenyRule(),
		},
	}
}
