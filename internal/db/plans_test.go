package db_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/healthmed/healthmed/internal/db"
	"github.com/healthmed/healthmed/internal/testdb"
)

// TestGenericPlansOnlyWhereAsked: a statement run with db.GenericPlans
// is planned once and runs its generic plan, whether kept by the
// connection or prepared by database/sql (as db.Prepared does); every
// other statement is still planned for its arguments at each execution,
// also after a generic one on the same connection and after a
// hand-written SET. A transaction runs in the mode it was begun in.
func TestGenericPlansOnlyWhereAsked(t *testing.T) {
	d := testdb.New(t)
	ctx := context.Background()
	generic := db.GenericPlans(ctx)
	conn, err := d.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	plans := func(text string) (genericPlans, customPlans int) {
		t.Helper()
		if err := conn.QueryRowContext(ctx, `SELECT coalesce(sum(generic_plans), 0), coalesce(sum(custom_plans), 0)
			FROM pg_prepared_statements WHERE statement = `+"'"+text+"'").Scan(&genericPlans, &customPlans); err != nil {
			t.Fatal(err)
		}
		return genericPlans, customPlans
	}
	run := func(ctx context.Context, text string) {
		t.Helper()
		for i := range 3 {
			var got int
			if err := conn.QueryRowContext(ctx, text, i).Scan(&got); err != nil || got != i+1 {
				t.Fatalf("%s with %d: %d, %v", text, i, got, err)
			}
		}
	}
	const searchLike, other = `SELECT $1::int + 1`, `SELECT $1::int + 2 - 1`
	run(generic, searchLike)
	run(ctx, other)
	if g, c := plans(searchLike); g != 3 || c != 0 {
		t.Fatalf("the generic statement: %d generic and %d custom plans, want 3 and 0", g, c)
	}
	if g, c := plans(other); g != 0 || c != 3 {
		t.Fatalf("the other statement: %d generic and %d custom plans, want 0 and 3", g, c)
	}

	// database/sql's own prepared statement, as db.Prepared runs them.
	const kept = `SELECT $1::int + 3 - 2`
	st, err := conn.PrepareContext(ctx, kept)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, c := range []context.Context{generic, generic, ctx} {
		var got int
		if err := st.QueryRowContext(c, 1).Scan(&got); err != nil || got != 2 {
			t.Fatalf("prepared statement: %d, %v", got, err)
		}
	}
	if g, c := plans(kept); g != 2 || c != 1 {
		t.Fatalf("the prepared statement: %d generic and %d custom plans, want 2 and 1", g, c)
	}

	// A transaction runs in the mode it was begun in, whatever its
	// statements ask, and the next statement sets its own mode again,
	// after a rollback as after a commit.
	modeIn := func(begin, stmt context.Context, end func(*sql.Tx) error) string {
		t.Helper()
		tx, err := conn.BeginTx(begin, nil)
		if err != nil {
			t.Fatal(err)
		}
		var mode string
		if err := tx.QueryRowContext(stmt, `SELECT current_setting($1)`, "plan_cache_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := end(tx); err != nil {
			t.Fatal(err)
		}
		return mode
	}
	rollback, commit := (*sql.Tx).Rollback, (*sql.Tx).Commit
	run(generic, searchLike)
	if mode := modeIn(ctx, generic, rollback); mode != "force_custom_plan" {
		t.Fatalf("in a transaction begun without asking: %q", mode)
	}
	if mode := modeIn(generic, ctx, commit); mode != "force_generic_plan" {
		t.Fatalf("in a transaction begun with GenericPlans: %q", mode)
	}
	_, before := plans(other)
	run(ctx, other)
	if _, after := plans(other); after != before+3 {
		t.Fatalf("after a generic transaction's commit: %d custom plans for 3 runs", after-before)
	}
	if mode := modeIn(generic, ctx, rollback); mode != "force_generic_plan" {
		t.Fatalf("in a transaction begun with GenericPlans: %q", mode)
	}
	var mode string
	if err := conn.QueryRowContext(ctx, `SELECT current_setting($1)`, "plan_cache_mode").Scan(&mode); err != nil || mode != "force_custom_plan" {
		t.Fatalf("after a generic transaction's rollback: %q, %v", mode, err)
	}

	// A hand-written SET is noticed: the next statement sets its own mode.
	if _, err := conn.ExecContext(ctx, `SET plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err)
	}
	_, before = plans(other)
	run(ctx, other)
	if _, after := plans(other); after != before+3 {
		t.Fatalf("after a SET: %d custom plans for 3 runs", after-before)
	}
}
