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

// ExternalIdentity links an account of the external identity provider
// (its issuer and subject) to a local account. A provider's token signs
// in only through a link; a link is made by the account's owner while
// signed in, or on a first sign-in when the provider and this server have
// both verified the same e-mail. Matching an unverified local e-mail
// would hand the provider's user to whoever registered that address here
// first.
type ExternalIdentity struct{ ent.Schema }

func (ExternalIdentity) Fields() []ent.Field {
	return []ent.Field{
		field.String("issuer").NotEmpty().MaxLen(2048).Immutable(),
		field.String("subject").NotEmpty().MaxLen(255).Immutable(),
		field.Enum("role").Values("doctor", "patient", "admin").Immutable(),
		field.Int("account_id").Immutable(),
		field.Time("created_at").Immutable().Default(now),
	}
}

func (ExternalIdentity) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("issuer", "subject").Unique(),
		// One identity of a provider per account.
		index.Fields("issuer", "role", "account_id").Unique(),
	}
}

func (ExternalIdentity) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

func (ExternalIdentity) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{
			// Sign-in links a verified e-mail before any viewer exists.
			rule.AllowIfSystem(),
			rule.AllowOwnExternalLink(),
			privacy.AlwaysDenyRule(),
		},
		Query: privacy.QueryPolicy{rule.AllowIfSystem(), privacy.AlwaysDenyRule()},
	}
}
