package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/internal/rule"
)

// Patient is identified by CPF. Everything about a patient is visible to
// the patient alone, and to a doctor only as far as an appointment or a
// live record share reaches.
type Patient struct{ ent.Schema }

func (Patient) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

func (Patient) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200),
		field.String("email").NotEmpty().MaxLen(254).Unique(),
		field.String("cpf").NotEmpty().MaxLen(11).MinLen(11).Unique().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("password_hash").Sensitive().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("deactivated_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		// email_verified_at says this server has verified the e-mail; only
		// then may an external identity with the same verified e-mail be
		// linked to the account on its own.
		field.Time("email_verified_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		// The profile a patient edits; private like the rest of the row.
		field.String("phone").Optional().Nillable().MaxLen(16).
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("birth_date").Optional().Nillable().
			SchemaType(map[string]string{dialect.Postgres: "date"}).
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("preferred_language").Optional().Nillable().MaxLen(35).
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

func (Patient) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("appointments", Appointment.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("record_files", RecordFile.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("shares", RecordShare.Type).Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

func (Patient) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{
			rule.AllowIfSystem(),
			rule.DenyPatientCPFChanges(),
			rule.AllowRegistration(),
			rule.AllowPatientSelfMutation(),
			privacy.AlwaysDenyRule(),
		},
		Query: privacy.QueryPolicy{
			rule.AllowIfSystem(),
			rule.FilterPatientsForViewer(),
			privacy.AlwaysDenyRule(),
		},
	}
}
