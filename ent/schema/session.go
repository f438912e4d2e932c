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

// Session is one refresh token of a signed-in account. Access tokens live
// minutes; a refresh token is exchanged for a new pair (and is then used
// up), so an account stays signed in until the family's absolute expiry,
// a logout, or the reuse of a token already exchanged, which revokes the
// whole family: one of its holders is not the account's owner. Only the
// token's SHA-256 is stored.
type Session struct{ ent.Schema }

func (Session) Fields() []ent.Field {
	return []ent.Field{
		// REGISTRATION: a registration waiting for its e-mail link, whose
		// id is account_id (see identity.Registrant).
		field.Enum("role").Values("DOCTOR", "PATIENT", "ADMIN", "REGISTRATION").Immutable(),
		field.Int("account_id").Immutable(),
		// family is shared by every token a login's refreshes produced.
		field.String("family").MaxLen(64).Immutable(),
		field.String("token_hash").MaxLen(64).Unique().Immutable().Sensitive(),
		field.Time("created_at").Immutable().Default(now),
		field.Time("expires_at").Immutable(),
		field.Time("used_at").Optional().Nillable(),
		field.Time("revoked_at").Optional().Nillable(),
	}
}

func (Session) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("family"),
		index.Fields("role", "account_id"),
		index.Fields("expires_at"),
	}
}

func (Session) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

func (Session) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{rule.AllowIfSystem(), privacy.AlwaysDenyRule()},
		Query:    privacy.QueryPolicy{rule.AllowIfSystem(), privacy.AlwaysDenyRule()},
	}
}
