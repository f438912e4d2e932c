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

// LoginAttempt is one login attempt counted by the login throttle: a
// failure, or an attempt still in flight. It lives in the database so that
// every replica counts the same attempts; rows leave once they no longer
// count (minutes). Keys are digests, never the e-mail, CRM or address
// itself.
type LoginAttempt struct{ ent.Schema }

func (LoginAttempt) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("scope").Values("ACCOUNT", "ADDRESS").Immutable(),
		field.String("key").MaxLen(64).Immutable(),
		field.Time("at"),
		field.Bool("pending"),
		// For an account's attempt in flight: the digest of the address it
		// came from, whose own count it also holds.
		field.String("addr").MaxLen(64).Default("").Immutable(),
	}
}

func (LoginAttempt) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("scope", "key", "at"),
		index.Fields("at"),
	}
}

func (LoginAttempt) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

func (LoginAttempt) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{rule.AllowIfSystem(), privacy.AlwaysDenyRule()},
		Query:    privacy.QueryPolicy{rule.AllowIfSystem(), privacy.AlwaysDenyRule()},
	}
}
