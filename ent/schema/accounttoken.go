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

// AccountToken is one link sent by e-mail: a verification of an address
// (a registration's, or an account's new one) or a password reset. The
// link's secret is never stored: it is derived when the e-mail is written
// from the server's link key and the row's nonce (internal/acctoken), and
// the row keeps its SHA-256 to find it by. A copy of the database alone
// therefore opens nothing. Each is used once.
type AccountToken struct{ ent.Schema }

func (AccountToken) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("purpose").Values("VERIFY_EMAIL", "RESET_PASSWORD").Immutable(),
		// The account it is for, or the registration it would complete.
		field.Enum("role").Values("DOCTOR", "PATIENT").Optional().Nillable().Immutable(),
		field.Int("account_id").Optional().Nillable().Immutable(),
		field.Int("registration_id").Optional().Nillable().Immutable(),
		// email is where the link goes: the address it verifies.
		field.String("email").NotEmpty().MaxLen(254).Immutable(),
		field.String("nonce").MaxLen(64).Sensitive().Immutable(),
		field.String("token_hash").MaxLen(64).Unique().Sensitive().Immutable(),
		field.Time("created_at").Immutable().Default(now),
		field.Time("expires_at").Immutable(),
		field.Time("used_at").Optional().Nillable(),
	}
}

func (AccountToken) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("role", "account_id", "purpose"),
		index.Fields("registration_id"),
		index.Fields("expires_at"),
	}
}

func (AccountToken) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

func (AccountToken) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{rule.AllowIfSystem(), privacy.AlwaysDenyRule()},
		Query:    privacy.QueryPolicy{rule.AllowIfSystem(), privacy.AlwaysDenyRule()},
	}
}
