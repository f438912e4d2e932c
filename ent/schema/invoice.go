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

// Invoice is what a completed appointment is billed: the price agreed at
// booking, issued by the server in the transaction that completes the
// appointment. Only its status moves afterwards (OPEN to PAID or VOID);
// the amount, parties and number never change.
type Invoice struct{ ent.Schema }

func (Invoice) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

func (Invoice) Fields() []ent.Field {
	return []ent.Field{
		// A sequential number from a database sequence, e.g. HM-00000042.
		field.String("number").NotEmpty().MaxLen(32).Unique().Immutable(),
		field.Int("appointment_id").Unique().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("patient_id").Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("doctor_id").Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		// Centavos (BRL): the appointment's price at booking time.
		field.Int("amount_cents").NonNegative().Immutable(),
		field.Enum("status").Values("OPEN", "PAID", "VOID").Default("OPEN"),
		// DOCTOR when the doctor completed the appointment, SYSTEM when
		// the server's job did because the doctor never confirmed it.
		field.Enum("issued_by").Values("DOCTOR", "SYSTEM").Immutable(),
		// When the consultation was scheduled to start (the receipt's
		// service date).
		field.Time("service_at").Immutable(),
		field.Time("issued_at").Immutable().Default(now).
			Annotations(entgql.OrderField("ISSUED_AT")),
		field.Time("paid_at").Optional().Nillable(),
		field.Time("voided_at").Optional().Nillable(),
		field.String("void_reason").Optional().Nillable().MaxLen(500),
	}
}

func (Invoice) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("appointment", Appointment.Type).Field("appointment_id").
			Unique().Required().Immutable(),
		edge.To("patient", Patient.Type).Field("patient_id").
			Unique().Required().Immutable(),
		edge.To("doctor", Doctor.Type).Field("doctor_id").
			Unique().Required().Immutable(),
	}
}

func (Invoice) Indexes() []ent.Index {
	return []ent.Index{
		// One invoice per appointment, whatever the concurrency (a
		// field-level Unique on an edge field makes no index).
		index.Fields("appointment_id").Unique(),
		index.Fields("patient_id", "issued_at"),
		index.Fields("doctor_id", "issued_at"),
	}
}

func (Invoice) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

func (Invoice) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{
			// The server issues invoices; the doctor only settles or
			// voids their own.
			rule.AllowIfSystem(),
			rule.AllowInvoiceSettlement(),
			privacy.AlwaysDenyRule(),
		},
		Query: privacy.QueryPolicy{
			rule.AllowIfSystem(),
			rule.FilterInvoicesForViewer(),
			privacy.AlwaysDenyRule(),
		},
	}
}
