package schema

import (
	"context"

	gen "github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/internal/txn"
)

// wakeOutbox wakes this replica's e-mail worker once a new notification
// commits, whichever writer made it: before the commit the worker would
// find nothing, and after a rollback there is nothing to find.
func wakeOutbox(ctx context.Context, c *gen.Client, _ *gen.Notification) error {
	txn.AfterCommit(ctx, c.Reactions.WakeOutbox)
	return nil
}
