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

// AllowAuditAppend lets any request append to the audit log, including
// anonymous ones whose access was denied, and nothing else.
func AllowAuditAppend() privacy.MutationRule {
	return privacy.AuditEventMutationRuleFunc(func(_ context.Context, m *ent.AuditEventMutation) error {
		if m.Op().Is(ent.OpCreate) {
			return privacy.Allow
		}
		return privacy.Denyf("audit events are append-only")
	})
}
