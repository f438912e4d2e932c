// Package rule holds the privacy rules every Ent schema composes. Each
// policy ends in a deny, so a case no rule recognises is refused.
package rule

import (
	"context"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/internal/viewer"
)

// AllowIfSystem lets the server act for itself (seeding, login look-ups).
func AllowIfSystem() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if viewer.FromContext(ctx).IsSystem() {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// AllowRegistration lets an anonymous caller create an account: signing up
// is the one write that needs no identity.
func AllowRegistration() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		if m.Op().Is(ent.OpCreate) && viewer.FromContext(ctx).Role == viewer.Anonymous {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// AllowAuditAppend lets a signed-in viewer append rows about their own
// accesses to the audit log, and nothing else. A refused access is only
// worth a row when a doctor attempted a patient's record: anonymous
// callers and patients probing ids would otherwise write into any
// patient's log at will.
func AllowAuditAppend() privacy.MutationRule {
	return privacy.AuditEventMutationRuleFunc(func(ctx context.Context, m *ent.AuditEventMutation) error {
		if !m.Op().Is(ent.OpCreate) {
			return privacy.Denyf("audit events are append-only")
		}
		v := viewer.FromContext(ctx)
		role, _ := m.ActorRole()
		actor, hasActor := m.ActorID()
		if v.ID == 0 || role != v.Role.String() || !hasActor || actor != v.ID {
			return privacy.Denyf("audit rows are written by their actor")
		}
		allowed, _ := m.Allowed()
		if _, hasPatient := m.PatientID(); !allowed && (!v.IsDoctor() || !hasPatient) {
			return privacy.Denyf("only a doctor's refused access to a patient's record is logged")
		}
		return privacy.Allow
	})
}
