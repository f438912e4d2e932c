package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/internal/address"
	"github.com/healthmed/healthmed/internal/geo"
	"github.com/healthmed/healthmed/internal/rule"
)

// Doctor is a physician registered with a CRM. The public profile (name,
// specialty, price, location, rating) is readable by anyone; credentials
// never leave the server.
type Doctor struct{ ent.Schema }

func (Doctor) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

func (Doctor) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200),
		field.String("email").NotEmpty().MaxLen(254).Unique().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("password_hash").Sensitive().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("crm_number").NotEmpty().MaxLen(8).
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("crm_state").NotEmpty().MaxLen(2).
			Annotations(entgql.Skip(entgql.SkipAll)),
		// specialty is the name shown when specialty_code is empty: the
		// free text doctors typed before the catalogue existed and that
		// matched no entry of it. With a code it is the entry's name.
		field.String("specialty").NotEmpty().MaxLen(100).
			Annotations(entgql.Skip(entgql.SkipAll)),
		// specialty_code names the doctor's entry in the specialties
		// catalogue (a foreign key in the migrations).
		field.String("specialty_code").Optional().Nillable().MaxLen(64).
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("price_cents").NonNegative(),
		field.Other("location", geo.Point{}).
			SchemaType(map[string]string{dialect.Postgres: "geography(Point,4326)"}).
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("timezone").Default("America/Sao_Paulo"),
		// Doctor.rating is declared in schema.graphqls: null while
		// rating_count is 0.
		field.Float("rating").Default(0).Min(0).Max(5).
			Annotations(entgql.Skip(entgql.SkipType)),
		field.Int("rating_count").Default(0).NonNegative(),
		// email_verified_at says this server has verified the e-mail; only
		// then may an external identity with the same verified e-mail be
		// linked to the account on its own.
		field.Time("email_verified_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		// verification is the clinic's check of the CRM against the
		// council's public registry: only a VERIFIED doctor is listed and
		// booked. Only an administrator moves it (internal/rule).
		field.Enum("verification").Values("PENDING", "VERIFIED", "REJECTED").
			Default("PENDING").
			Annotations(entgql.Skip(entgql.SkipAll)),
		// verification_note is the administrator's reason for a rejection.
		field.String("verification_note").Optional().Nillable().MaxLen(500).
			Annotations(entgql.Skip(entgql.SkipAll)),
		// The public profile a doctor edits.
		field.String("bio").Default("").MaxLen(2000).
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Strings("languages").Optional().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Strings("consultation_modes").Optional().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.JSON("address", &address.Address{}).Optional().
			Annotations(entgql.Skip(entgql.SkipAll)),
		// photo_key names the profile photo in the blob store: a new key per
		// upload, so its URL can be cached for ever.
		field.String("photo_key").Optional().Nillable().MaxLen(64).
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

func (Doctor) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("slots", Slot.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("appointments", Appointment.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("availabilities", Availability.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("days_off", DayOff.Type).Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

func (Doctor) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("crm_number", "crm_state").Unique(),
		index.Fields("specialty"),
		index.Fields("location").Annotations(entsqlGIST()),
		// Doctors whose free-text specialty matched no catalogue entry
		// are still searched by that text near a point.
		index.Fields("specialty", "location").Annotations(entsqlGIST()),
		// The search by specialty near a point reads this index in
		// distance order (btree_gist gives GiST the equality on text).
		index.Fields("specialty_code", "location").Annotations(entsqlGIST()),
		// The administrators' queue of doctors awaiting verification.
		index.Fields("verification", "id"),
		// A photo is served by its key.
		index.Fields("photo_key").Unique(),
	}
}

func (Doctor) Annotations() []schema.Annotation {
	// No generated DoctorOrder input: the search's DoctorOrder enum has
	// the name, and no list of doctors takes Ent's ordering.
	return []schema.Annotation{entgql.RelayConnection(), entgql.Skip(entgql.SkipOrderField)}
}

func (Doctor) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{
			rule.AllowIfSystem(),
			rule.DenyDoctorCredentialChanges(),
			rule.AllowRegistration(),
			rule.AllowDoctorSelfMutation(),
			rule.AllowDoctorReview(),
			privacy.AlwaysDenyRule(),
		},
		Query: privacy.QueryPolicy{
			// The public profile is public; sensitive columns are never
			// exposed through GraphQL.
			privacy.AlwaysAllowRule(),
		},
	}
}
