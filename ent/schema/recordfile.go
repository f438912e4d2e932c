package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/internal/rule"
)

// RecordFile is one document of a patient's medical record. The bytes live
// encrypted in the blob store; this row holds the metadata and the wrapped
// data key.
type RecordFile struct{ ent.Schema }

func (RecordFile) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

func (RecordFile) Fields() []ent.Field {
	return []ent.Field{
		field.Int("patient_id").Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("title").NotEmpty().MaxLen(200),
		field.Enum("category").
			Values("EXAM", "REPORT", "PRESCRIPTION", "VACCINATION", "IMAGE", "OTHER"),
		field.Strings("tags").Default([]string{}),
		field.String("file_name").MaxLen(255),
		field.String("content_type").MaxLen(100),
		field.Int64("size_bytes").NonNegative(),
		field.String("sha256").MaxLen(64).Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("storage_key").Sensitive().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Bytes("wrapped_key").Sensitive().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("deleted_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

func (RecordFile) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("patient", Patient.Type).Ref("record_files").Field("patient_id").
			Unique().Required().Immutable(),
		edge.From("shares", RecordShare.Type).Ref("files").
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

func (RecordFile) Indexes() []ent.Index {
	return []ent.Index{index.Fields("patient_id", "category")}
}

func (RecordFile) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

// Interceptors: every file a doctor's query returns, whichever path the
// query took, is a view of its metadata in the access log (record.Viewed);
// if the log cannot be written the query fails.
func (RecordFile) Interceptors() []ent.Interceptor {
	return []ent.Interceptor{onRecordFilesRead()}
}

func (RecordFile) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{
			rule.AllowIfSystem(),
			rule.AllowPatientOwned(),
			rule.AllowDoctorConsultationReport(),
			privacy.AlwaysDenyRule(),
		},
		Query: privacy.QueryPolicy{
			rule.AllowIfSystem(),
			rule.FilterRecordFilesForViewer(),
			privacy.AlwaysDenyRule(),
		},
	}
}
