package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"

	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/internal/rule"
)

// Admin is a clinic administrator: they sign in with e-mail and password
// and run the reports. Admins see aggregates only, never a patient's
// record; the account is not exposed through GraphQL.
type Admin struct{ ent.Schema }

func (Admin) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

func (Admin) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200),
		field.String("email").NotEmpty().MaxLen(254).Unique(),
		field.String("password_hash").Sensitive(),
		field.Time("disabled_at").Optional().Nillable(),
		// email_verified_at says this server has verified the e-mail; only
		// then may an external identity with the same verified e-mail be
		// linked to the account on its own.
		field.Time("email_verified_at").Optional().Nillable(),
	}
}

func (Admin) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

func (Admin) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{
			// Accounts are made by the seed or an operator's command.
			rule.AllowIfSystem(),
			privacy.AlwaysDenyRule(),
		},
		Query: privacy.QueryPolicy{
			rule.AllowIfSystem(),
			privacy.AlwaysDenyRule(),
		},
	}
}
