package txn_test

import (
	"context"
	"errors"
	"testing"

	"github.com/healthmed/healthmed/ent"
	_ "github.com/healthmed/healthmed/ent/runtime"
	"github.com/healthmed/healthmed/internal/testdb"
	"github.com/healthmed/healthmed/internal/txn"
)

// What waits for the end of a transaction runs exactly when it ended the
// way it waits for, and at once (or never) without a transaction.
func TestAfterCommitAndOnAbort(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	type ran struct{ committed, aborted int }
	within := func(t *testing.T, end func(*ent.Tx) error) ran {
		t.Helper()
		tx, err := db.Client.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var r ran
		tctx := ent.NewTxContext(ctx, tx)
		txn.AfterCommit(tctx, func() { r.committed++ })
		txn.OnAbort(tctx, func() { r.aborted++ })
		if r != (ran{}) {
			t.Fatalf("ran before the transaction ended: %+v", r)
		}
		if err := end(tx); err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := within(t, (*ent.Tx).Commit); r != (ran{committed: 1}) {
		t.Errorf("commit: %+v", r)
	}
	if r := within(t, (*ent.Tx).Rollback); r != (ran{aborted: 1}) {
		t.Errorf("rollback: %+v", r)
	}
	// A commit that fails is an abort: nothing was written.
	r := within(t, func(tx *ent.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT 1/0`); err == nil {
			return errors.New("division by zero succeeded")
		}
		if err := tx.Commit(); err == nil {
			return errors.New("commit of a failed transaction succeeded")
		}
		return nil
	})
	if r != (ran{aborted: 1}) {
		t.Errorf("failed commit: %+v", r)
	}
	var r2 ran
	txn.AfterCommit(ctx, func() { r2.committed++ })
	txn.OnAbort(ctx, func() { r2.aborted++ })
	if r2 != (ran{committed: 1}) {
		t.Errorf("without a transaction: %+v", r2)
	}
}
