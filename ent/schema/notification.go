package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/internal/rule"
)

// Notification is one message to one doctor, one patient or one
// registration waiting for its link. It is a row
// of the recipient's in-app list and, at the same time, the outbox entry
// the e-mail worker delivers (internal/notify). It is written in the same
// transaction as the change it announces, so an e-mail can never announce
// something that did not happen, nor be missing for something that did.
//
// Exactly one of doctor_id, patient_id and registration_id names the
// recipient (a check constraint in the hand-written migrations holds it).
type Notification struct{ ent.Schema }

func (Notification) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

func (Notification) Fields() []ent.Field {
	skip := entgql.Skip(entgql.SkipAll)
	return []ent.Field{
		field.Enum("kind").Immutable().Values(
			"BOOKING_REQUESTED", "BOOKING_ACCEPTED", "BOOKING_REJECTED", "BOOKING_CANCELLED",
			"REMINDER_24H", "REMINDER_1H", "SHARE_CREATED", "SHARE_REVOKED",
			// Account e-mails: a link to verify an address or reset the
			// password (account_token_id), and the notice to an account's
			// owner that someone tried to register its e-mail, CPF or CRM.
			"EMAIL_VERIFICATION", "PASSWORD_RESET", "REGISTRATION_ATTEMPT",
			"BOOKING_RESCHEDULED", "WAITLIST_OFFERED", "RESCHEDULE_PROPOSED", "RESCHEDULE_DECLINED"),

		field.Int("doctor_id").Optional().Nillable().Immutable().Annotations(skip),
		field.Int("patient_id").Optional().Nillable().Immutable().Annotations(skip),
		field.Int("appointment_id").Optional().Nillable().Immutable().Annotations(skip),
		field.Int("record_share_id").Optional().Nillable().Immutable().Annotations(skip),
		// registration_id is the recipient when it is a registration
		// waiting for its link (no account yet).
		field.Int("registration_id").Optional().Nillable().Immutable().Annotations(skip),
		// account_token_id is the link an account e-mail carries; the
		// e-mail goes to the token's address.
		field.Int("account_token_id").Optional().Nillable().Immutable().Annotations(skip),
		// waitlist_offer_id is the slot held for the patient, for a
		// WAITLIST_OFFERED notice.
		field.Int("waitlist_offer_id").Optional().Nillable().Immutable().Annotations(skip),
		// starts_at is when the consultation begins, for the notifications
		// about an appointment, as it was when the notification was made.
		field.Time("starts_at").Optional().Nillable().Immutable(),
		field.Time("read_at").Optional().Nillable(),
		// dedupe_key makes an enqueue idempotent: reminders carry one per
		// appointment, kind and recipient.
		field.String("dedupe_key").Optional().Nillable().Unique().Immutable().MaxLen(200).
			Annotations(skip),
		// The e-mail delivery, which only the worker changes.
		field.Enum("email_status").Values("PENDING", "SENDING", "SENT", "FAILED", "SKIPPED").
			Default("PENDING").Annotations(skip),
		// attempts counts claims; the worker's updates carry it as a
		// fencing token, so a worker whose lease ran out cannot overwrite
		// the outcome of the worker that took the row over.
		field.Int("attempts").NonNegative().Default(0).Annotations(skip),
		// next_attempt_at is when the row is due: now for a new row, the
		// backoff after a failure, the end of the lease while it is sending.
		field.Time("next_attempt_at").Default(now).Annotations(skip),
		field.Time("claimed_until").Optional().Nillable().Annotations(skip),
		// send_before: an e-mail about a moment that has passed is not sent.
		field.Time("send_before").Optional().Nillable().Immutable().Annotations(skip),
		field.Time("sent_at").Optional().Nillable().Annotations(skip),
		field.String("last_error").Optional().Nillable().MaxLen(500).Annotations(skip),
	}
}

func (Notification) Edges() []ent.Edge {
	skip := entgql.Skip(entgql.SkipAll)
	cascade := entsql.OnDelete(entsql.Cascade)
	return []ent.Edge{
		edge.To("doctor", Doctor.Type).Field("doctor_id").Unique().Immutable().
			Annotations(skip, cascade),
		edge.To("patient", Patient.Type).Field("patient_id").Unique().Immutable().
			Annotations(skip, cascade),
		edge.To("appointment", Appointment.Type).Field("appointment_id").Unique().Immutable(),
		edge.To("record_share", RecordShare.Type).Field("record_share_id").Unique().Immutable(),
	}
}

func (Notification) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("doctor_id", "created_at"),
		index.Fields("patient_id", "created_at"),
		index.Fields("appointment_id"),
	}
}

func (Notification) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

// Hooks: whoever writes a notification (the notices of a change, an
// account's links), the e-mail worker wakes once it commits; the other
// replicas' workers poll.
func (Notification) Hooks() []ent.Hook {
	return []ent.Hook{onCreated(wakeOutbox)}
}

func (Notification) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{
			// The server writes notifications; their recipient only marks
			// them read.
			rule.AllowIfSystem(),
			rule.AllowNotificationReadMark(),
			privacy.AlwaysDenyRule(),
		},
		Query: privacy.QueryPolicy{
			rule.AllowIfSystem(),
			rule.FilterNotificationsForViewer(),
			privacy.AlwaysDenyRule(),
		},
	}
}
