package schema

import (
	"regexp"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/internal/review"
	"github.com/healthmed/healthmed/internal/rule"
)

var dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// Feedback is a patient's rating of one completed appointment.
type Feedback struct{ ent.Schema }

func (Feedback) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

func (Feedback) Fields() []ent.Field {
	return []ent.Field{
		field.Int("appointment_id").Unique().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("doctor_id").Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("patient_id").Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("stars").Range(1, 5).Immutable(),
		field.String("comment").MaxLen(2000).Default("").Immutable(),
		// The doctor's one public reply.
		field.String("reply").Optional().Nillable().MaxLen(2000).
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("replied_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		// A hidden review is shown to nobody but admins and its author,
		// and leaves the doctor's average.
		field.Time("hidden_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

func (Feedback) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("appointment", Appointment.Type).Field("appointment_id").
			Unique().Required().Immutable(),
		edge.To("doctor", Doctor.Type).Field("doctor_id").
			Unique().Required().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("patient", Patient.Type).Field("patient_id").
			Unique().Required().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

func (Feedback) Indexes() []ent.Index {
	return []ent.Index{
		// One rating per appointment, whatever the concurrency.
		index.Fields("appointment_id").Unique(),
		// A doctor's reviews, newest first, page by page.
		index.Fields("doctor_id", "created_at", "id"),
	}
}

// Hooks keep the doctor's average of visible ratings, whoever writes
// them (a patient's rating, an admin's moderation, a script), in the
// writer's transaction.
func (Feedback) Hooks() []ent.Hook {
	return []ent.Hook{
		onCreated(review.Rated),
		onRatingsShownOrHidden(review.Recount),
	}
}

func (Feedback) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{
			rule.AllowIfSystem(),
			rule.AllowFeedbackByPatient(),
			rule.AllowFeedbackReply(),
			rule.AllowFeedbackHiding(),
			privacy.AlwaysDenyRule(),
		},
		Query: privacy.QueryPolicy{
			// Ratings are public, like the doctor's average they feed,
			// unless an admin hid them.
			rule.AllowIfSystem(),
			rule.FilterHiddenFeedback(),
			privacy.AlwaysDenyRule(),
		},
	}
}
