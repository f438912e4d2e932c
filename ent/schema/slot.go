package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/internal/live"
	"github.com/healthmed/healthmed/internal/rule"
	"github.com/healthmed/healthmed/internal/waitlist"
)

// Slot is a period a doctor offers for consultations. Overlap between the
// slots of one doctor is refused by an exclusion constraint (see the
// hand-written migration), not by application checks.
type Slot struct{ ent.Schema }

func (Slot) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

func (Slot) Fields() []ent.Field {
	return []ent.Field{
		field.Int("doctor_id").Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("starts_at"),
		field.Time("ends_at"),
		// A slot with booking history is withdrawn, not deleted, so the
		// appointments that point at it keep their record.
		field.Time("deleted_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

func (Slot) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("doctor", Doctor.Type).Ref("slots").Field("doctor_id").
			Unique().Required().Immutable(),
		edge.To("appointments", Appointment.Type).Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

func (Slot) Indexes() []ent.Index {
	return []ent.Index{index.Fields("doctor_id", "starts_at")}
}

// Interceptors: whatever lists slots (a doctor's agenda, an edge), the
// free field the response then asks of each is read in one statement.
func (Slot) Interceptors() []ent.Interceptor {
	return []ent.Interceptor{onSlotsRead()}
}

// Hooks are what else opening, moving or withdrawing a slot does, whoever
// does it, in the writer's transaction.
func (Slot) Hooks() []ent.Hook {
	return []ent.Hook{
		onSlotChanges(
			// The doctor's agenda subscriptions see it.
			live.SlotChanged,
			// A new slot goes to the first in the doctor's waitlist; a
			// withdrawn one takes its hold with it.
			waitlist.SlotChanged,
		),
	}
}

func (Slot) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{
			rule.AllowIfSystem(),
			rule.AllowDoctorOwned(),
			privacy.AlwaysDenyRule(),
		},
		Query: privacy.QueryPolicy{
			// A doctor's agenda is public: patients book from it.
			privacy.AlwaysAllowRule(),
		},
	}
}
