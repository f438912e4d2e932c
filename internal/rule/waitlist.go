package rule

import (
	"context"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/ent/waitlistentry"
	"github.com/healthmed/healthmed/ent/waitlistoffer"
	"github.com/healthmed/healthmed/internal/viewer"
)

// FilterWaitlistForPatient shows a patient their own waitlist entries and
// the offers made to them. Nobody else reads a line: a doctor learns of a
// patient only when they book, and other patients only their own place.
func FilterWaitlistForPatient() privacy.QueryRule {
	return privacy.QueryRuleFunc(func(ctx context.Context, q ent.Query) error {
		v := viewer.FromContext(ctx)
		if !v.IsPatient() {
			return privacy.Skip
		}
		switch q := q.(type) {
		case *ent.WaitlistEntryQuery:
			q.Where(waitlistentry.PatientID(v.ID))
			return privacy.Allow
		case *ent.WaitlistOfferQuery:
			q.Where(waitlistoffer.PatientID(v.ID))
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// AllowWaitlistJoinAndLeave lets a patient put themself in a doctor's
// line and leave it, and nothing else: a new entry is their own and
// WAITING, a change only sets their own entry LEFT (the ownership
// predicate in the UPDATE itself), and entries are never deleted.
// Offers and bookings move an entry on as the server.
func AllowWaitlistJoinAndLeave() privacy.MutationRule {
	return privacy.WaitlistEntryMutationRuleFunc(func(ctx context.Context, m *ent.WaitlistEntryMutation) error {
		v := viewer.FromContext(ctx)
		if !v.IsPatient() {
			return privacy.Skip
		}
		status, setsStatus := m.Status()
		switch {
		case m.Op().Is(ent.OpCreate):
			id, ok := m.PatientID()
			if !ok || id != v.ID || (setsStatus && status != waitlistentry.StatusWAITING) {
				return privacy.Denyf("a patient joins a line for themself")
			}
			return privacy.Allow
		case m.Op().Is(ent.OpDelete | ent.OpDeleteOne):
			return privacy.Denyf("waitlist entries are left, not deleted")
		}
		for _, f := range m.Fields() {
			if f != waitlistentry.FieldStatus && f != waitlistentry.FieldUpdatedAt {
				return privacy.Denyf("only leaving changes an entry")
			}
		}
		if !setsStatus || status != waitlistentry.StatusLEFT || len(m.ClearedFields()) > 0 {
			return privacy.Denyf("only leaving changes an entry")
		}
		m.Where(waitlistentry.PatientID(v.ID))
		return privacy.Allow
	})
}
