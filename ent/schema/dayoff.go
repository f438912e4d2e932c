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

// DayOff is a local calendar date on which weekly availability makes no
// slots.
type DayOff struct{ ent.Schema }

func (DayOff) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

func (DayOff) Fields() []ent.Field {
	return []ent.Field{
		field.Int("doctor_id").Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		// The date as YYYY-MM-DD in the doctor's time zone.
		field.String("date").Match(dateRE).Immutable(),
	}
}

func (DayOff) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("doctor", Doctor.Type).Ref("days_off").Field("doctor_id").
			Unique().Required().Immutable(),
	}
}

func (DayOff) Indexes() []ent.Index {
	return []ent.Index{index.Fields("doctor_id", "date").Unique()}
}

func (DayOff) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{
			rule.AllowIfSystem(),
			rule.AllowDoctorOwned(),
			privacy.AlwaysDenyRule(),
		},
		Query: privacy.QueryPolicy{
			privacy.AlwaysAllowRule(),
		},
	}
}
