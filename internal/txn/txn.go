// Package txn picks the Ent client a service call runs on, and runs what
// must wait until the transaction of a write has ended.
package txn

import (
	"context"

	"github.com/healthmed/healthmed/ent"
)

// Client returns the transaction of the current mutation (entgql's
// Transactioner puts it in the context), or c for reads outside one.
func Client(ctx context.Context, c *ent.Client) *ent.Client {
	if tx := ent.FromContext(ctx); tx != nil {
		return tx
	}
	return c
}

// AfterCommit runs fn once the transaction in ctx has committed, and
// never if it does not. Without a transaction the write it follows is
// already durable, so fn runs at once. What wakes another process or
// starts work on the written rows goes here: before the commit they
// would find nothing.
func AfterCommit(ctx context.Context, fn func()) {
	tx := ent.TxFromContext(ctx)
	if tx == nil {
		fn()
		return
	}
	whenEnded(tx, func(committed bool) {
		if committed {
			fn()
		}
	})
}

// OnAbort runs fn if the transaction in ctx rolls back or fails to
// commit; without a transaction it never runs.
func OnAbort(ctx context.Context, fn func()) {
	if tx := ent.TxFromContext(ctx); tx != nil {
		whenEnded(tx, func(committed bool) {
			if !committed {
				fn()
			}
		})
	}
}

// whenEnded runs fn once tx has ended, told whether it committed.
func whenEnded(tx *ent.Tx, fn func(committed bool)) {
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			fn(err == nil)
			return err
		})
	})
	tx.OnRollback(func(next ent.Rollbacker) ent.Rollbacker {
		return ent.RollbackFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Rollback(ctx, tx)
			fn(false)
			return err
		})
	})
}
