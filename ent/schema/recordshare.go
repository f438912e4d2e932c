package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/internal/notify"
	"github.com/healthmed/healthmed/internal/rule"
)

// RecordShare grants one doctor read access to part of a patient's record
// until it expires or is revoked. Categories and tags cover files added
// after the share was made.
type RecordShare struct{ ent.Schema }

func (RecordShare) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

func (RecordShare) Fields() []ent.Field {
	return []ent.Field{
		field.Int("patient_id").Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("doctor_id").Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Strings("categories").Default([]string{}),
		field.Strings("tags").Default([]string{}),
		field.Time("expires_at"),
		field.Time("revoked_at").Optional().Nillable(),
	}
}

func (RecordShare) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("patient", Patient.Type).Ref("shares").Field("patient_id").
			Unique().Required().Immutable(),
		edge.To("doctor", Doctor.Type).Field("doctor_id").
			Unique().Required().Immutable(),
		edge.To("files", RecordFile.Type),
	}
}

func (RecordShare) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("doctor_id", "patient_id", "expires_at"),
	}
}

// Hooks are what else making or revoking a share does, whoever does it, in
// the writer's transaction.
func (RecordShare) Hooks() []ent.Hook {
	return []ent.Hook{
		onShareChanges(
			// The doctor is told.
			notify.ShareChanged,
		),
	}
}

func (RecordShare) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{
			rule.AllowIfSystem(),
			rule.AllowPatientOwned(),
			privacy.AlwaysDenyRule(),
		},
		Query: privacy.QueryPolicy{
			rule.AllowIfSystem(),
			rule.FilterSharesForViewer(),
			privacy.AlwaysDenyRule(),
		},
	}
}
