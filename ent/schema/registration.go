package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/internal/rule"
)

// Registration is a sign-up waiting for its e-mail link. The account is
// made from it only when the link is followed, so a registration never
// reserves an e-mail, a CPF or a CRM that its author cannot prove, and
// registering an identifier that already has an account answers exactly
// like registering a new one (see internal/identity/register.go). Rows
// are not unique on anything: several people may claim one address, and
// the first to follow a link sent to it wins.
type Registration struct{ ent.Schema }

func (Registration) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("kind").Values("PATIENT", "DOCTOR").Immutable(),
		field.String("name").NotEmpty().MaxLen(200).Immutable(),
		field.String("email").NotEmpty().MaxLen(254).Immutable(),
		field.String("password_hash").Sensitive().Immutable(),
		field.String("cpf").Optional().Nillable().MaxLen(11).Immutable(),
		field.String("crm_number").Optional().Nillable().MaxLen(8).Immutable(),
		field.String("crm_state").Optional().Nillable().MaxLen(2).Immutable(),
		field.String("specialty").Optional().Nillable().MaxLen(100).Immutable(),
		field.Int("price_cents").Optional().Nillable().Immutable(),
		field.Float("lat").Optional().Nillable().Immutable(),
		field.Float("lng").Optional().Nillable().Immutable(),
		field.String("timezone").Optional().Nillable().MaxLen(64).Immutable(),
		field.Time("created_at").Immutable().Default(now),
		// expires_at: past it the link no longer makes the account.
		field.Time("expires_at").Immutable(),
		// account_id is the account the link made, once followed.
		field.Int("account_id").Optional().Nillable(),
		field.Time("completed_at").Optional().Nillable(),
	}
}

func (Registration) Indexes() []ent.Index {
	return []ent.Index{index.Fields("expires_at")}
}

func (Registration) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

func (Registration) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{rule.AllowIfSystem(), privacy.AlwaysDenyRule()},
		Query:    privacy.QueryPolicy{rule.AllowIfSystem(), privacy.AlwaysDenyRule()},
	}
}
