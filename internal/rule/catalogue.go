package rule

import (
	"context"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/internal/viewer"
)

// AllowAdminCreate lets an admin add rows (a catalogue entry); changes
// and deletions are not theirs.
func AllowAdminCreate() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		if viewer.FromContext(ctx).IsAdmin() && m.Op().Is(ent.OpCreate) {
			return privacy.Allow
		}
		return privacy.Skip
	})
}
