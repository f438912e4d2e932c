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

// AuditEvent is one access to health data, allowed or denied. Rows are
// append-only: a database trigger refuses UPDATE and DELETE, and the
// privacy policy refuses them before they reach it.
type AuditEvent struct{ ent.Schema }

func (AuditEvent) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").Immutable().Default(now).
			Annotations(entgql.OrderField("CREATED_AT")),
		field.Enum("action").Values("VIEW_METADATA", "DOWNLOAD", "SHARE", "REVOKE", "UPLOAD", "DELETE",
			// An administrator's decision on a doctor's CRM, or correction of
			// it; an admin's moderation and catalogue changes.
			"VERIFY_DOCTOR", "REJECT_DOCTOR", "CORRECT_CRM", "REVIEW_HIDE", "SPECIALTY_CREATE").
			Immutable(),
		field.Bool("allowed").Immutable(),
		field.String("actor_role").Immutable(),
		// The patient reading their log sees who (AuditEvent.actor), when,
		// what and whether it was allowed; the actor's raw id and network
		// address are the operators' business, not theirs.
		field.Int("actor_id").Optional().Nillable().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("patient_id").Optional().Nillable().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("record_file_id").Optional().Nillable().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		// doctor_id is the doctor an administrator's decision was about.
		field.Int("doctor_id").Optional().Nillable().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("share_id").Optional().Nillable().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("client_addr").Optional().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("detail").Optional().Immutable(),
	}
}

func (AuditEvent) Indexes() []ent.Index {
	return []ent.Index{index.Fields("patient_id", "created_at")}
}

func (AuditEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

func (AuditEvent) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{
			rule.AllowAuditAppend(),
			privacy.AlwaysDenyRule(),
		},
		Query: privacy.QueryPolicy{
			rule.AllowIfSystem(),
			rule.FilterAuditForViewer(),
			privacy.AlwaysDenyRule(),
		},
	}
}
