package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/internal/rule"
)

// CoverageCheck is what the patient's operator said about one booked
// appointment. It is written UNKNOWN with the booking and settled after
// the booking commits; when the operator cannot be reached it stays
// UNKNOWN, with checkedAt and a detail saying why.
type CoverageCheck struct{ ent.Schema }

func (CoverageCheck) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

func (CoverageCheck) Fields() []ent.Field {
	return []ent.Field{
		field.Int("appointment_id").Unique().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("patient_id").Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("doctor_id").Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("operator").Immutable(),
		field.Enum("status").Values("COVERED", "NOT_COVERED", "UNKNOWN").Default("UNKNOWN"),
		// Why the status is what it is: the operator's reason, or what
		// went wrong reaching it. Never the card number.
		field.String("detail").Optional().MaxLen(200),
		// The operator's authorization code, when it covered.
		field.String("authorization").Optional().Nillable().MaxLen(64),
		field.Int("attempts").Default(0).NonNegative().Annotations(entgql.Skip(entgql.SkipAll)),
		// Unset while the check is still running.
		field.Time("checked_at").Optional().Nillable(),
	}
}

func (CoverageCheck) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("appointment", Appointment.Type).Field("appointment_id").
			Unique().Required().Immutable(),
	}
}

func (CoverageCheck) Indexes() []ent.Index {
	return []ent.Index{index.Fields("appointment_id").Unique()}
}

func (CoverageCheck) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{
			// Only the server asks the operator and records the answer.
			rule.AllowIfSystem(),
			privacy.AlwaysDenyRule(),
		},
		Query: privacy.QueryPolicy{
			rule.AllowIfSystem(),
			rule.FilterCoverageForViewer(),
			privacy.AlwaysDenyRule(),
		},
	}
}
