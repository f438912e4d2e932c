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

// Availability is a doctor's recurring weekly hours, in the doctor's own
// time zone; the server turns it into slots for the coming weeks.
type Availability struct{ ent.Schema }

func (Availability) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

func (Availability) Fields() []ent.Field {
	return []ent.Field{
		field.Int("doctor_id").Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		// 0 is Sunday, as in Go's time.Weekday.
		field.Int("weekday").Range(0, 6),
		field.Int("start_minute").Range(0, 24*60-1),
		field.Int("end_minute").Range(1, 24*60),
		field.Int("slot_minutes").Range(10, 240),
	}
}

func (Availability) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("doctor", Doctor.Type).Ref("availabilities").Field("doctor_id").
			Unique().Required().Immutable(),
	}
}

func (Availability) Indexes() []ent.Index {
	return []ent.Index{index.Fields("doctor_id", "weekday")}
}

func (Availability) Policy() ent.Policy {
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
