package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"

	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/internal/rule"
)

// Specialty is one entry of the catalogue of medical specialties doctors
// choose from: the Federal Council of Medicine's list, seeded by a
// migration, plus what admins add. Entries are never changed nor removed,
// so a code, once given to a doctor, names the same specialty forever (and
// a replica may keep what it has read).
type Specialty struct{ ent.Schema }

func (Specialty) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").Immutable().Default(now),
		// code is the stable key clients and doctors' rows hold: lower-case
		// ASCII words joined by hyphens, e.g. "cardiologia".
		field.String("code").NotEmpty().MaxLen(64).Unique().Immutable(),
		// name is the official Portuguese name.
		field.String("name").NotEmpty().MaxLen(100).Unique().Immutable(),
		field.String("name_en").NotEmpty().MaxLen(100).Unique().Immutable(),
	}
}

func (Specialty) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

func (Specialty) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{
			rule.AllowIfSystem(),
			rule.AllowAdminCreate(),
			privacy.AlwaysDenyRule(),
		},
		Query: privacy.QueryPolicy{
			// The catalogue is public.
			privacy.AlwaysAllowRule(),
		},
	}
}
