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

// InsurancePlan is a patient's health-insurance plan. The card number is
// kept sealed under the record key-encryption key; only its last four
// digits are stored in the clear, for the masked form every output shows.
type InsurancePlan struct{ ent.Schema }

func (InsurancePlan) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

func (InsurancePlan) Fields() []ent.Field {
	return []ent.Field{
		// One plan per patient: registering again replaces it.
		field.Int("patient_id").Unique().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		// The operator's code as the coverage API knows it, e.g. "unimed".
		field.String("operator").NotEmpty().MaxLen(100),
		field.String("plan_name").Optional().MaxLen(100),
		field.Bytes("card_sealed").Sensitive().Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("card_last4").MaxLen(4).Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

func (InsurancePlan) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("patient", Patient.Type).Field("patient_id").
			Unique().Required().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

func (InsurancePlan) Indexes() []ent.Index {
	return []ent.Index{index.Fields("patient_id").Unique()}
}

func (InsurancePlan) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{
			rule.AllowIfSystem(),
			rule.AllowPatientOwned(),
			privacy.AlwaysDenyRule(),
		},
		Query: privacy.QueryPolicy{
			rule.AllowIfSystem(),
			rule.FilterInsurancePlansForViewer(),
			privacy.AlwaysDenyRule(),
		},
	}
}
