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
	"github.com/healthmed/healthmed/internal/live"
	"github.com/healthmed/healthmed/internal/notify"
	"github.com/healthmed/healthmed/internal/rule"
	"github.com/healthmed/healthmed/internal/waitlist"
)

// WaitlistOffer is a freed slot held for one waitlist entry until
// expires_at. The hand-written migration keeps it race-free: at most one
// HELD offer per slot and per entry (partial unique indexes), and a
// trigger on appointments refuses anyone but the holder a held slot and
// marks the hold BOOKED when the holder takes it.
type WaitlistOffer struct{ ent.Schema }

func (WaitlistOffer) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

func (WaitlistOffer) Fields() []ent.Field {
	return []ent.Field{
		field.Int("entry_id").Immutable(),
		field.Int("slot_id").Immutable(),
		field.Int("doctor_id").Immutable(),
		field.Int("patient_id").Immutable(),
		field.Time("expires_at").Immutable(),
		// HELD until the holder books (BOOKED), the time runs out
		// (EXPIRED), or the entry or the slot goes (WITHDRAWN).
		field.Enum("status").Values("HELD", "BOOKED", "EXPIRED", "WITHDRAWN").Default("HELD"),
	}
}

func (WaitlistOffer) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("entry", WaitlistEntry.Type).Ref("offers").Field("entry_id").
			Unique().Required().Immutable(),
		// A slot never booked may be deleted outright: its offers go too.
		edge.To("slot", Slot.Type).Field("slot_id").Unique().Required().Immutable().
			Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

func (WaitlistOffer) Indexes() []ent.Index {
	return []ent.Index{
		// The expiry job's scan.
		index.Fields("status", "expires_at"),
		// Which slots an entry was offered already.
		index.Fields("entry_id", "slot_id"),
		index.Fields("slot_id", "status"),
	}
}

func (WaitlistOffer) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Hooks: an offer made is pushed to the patient's waitlistOffered
// subscription and e-mailed, and a hold that ends unused (it expired, or
// its entry left the line) hands the slot to the next in line, whoever
// writes it (a freed slot's writer, the expiry job, a leaving patient),
// in the writer's transaction.
func (WaitlistOffer) Hooks() []ent.Hook {
	return []ent.Hook{
		onCreated(
			live.WaitlistOffered,
			notify.WaitlistOffered,
		),
		onHoldsEnded(
			waitlist.HoldEnded,
		),
	}
}

func (WaitlistOffer) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{
			// Offers are the server's to make and settle.
			rule.AllowIfSystem(),
			privacy.AlwaysDenyRule(),
		},
		Query: privacy.QueryPolicy{
			rule.AllowIfSystem(),
			rule.FilterWaitlistForPatient(),
			privacy.AlwaysDenyRule(),
		},
	}
}
