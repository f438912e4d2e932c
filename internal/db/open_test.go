package db_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/healthmed/healthmed/internal/testdb"
)

// The pool prepares each statement with parameters once per connection
// and reuses it, keeps planning every execution with its values, and
// passes bytes and JSON as before; a statement that failed in a
// transaction runs again after it.
func TestStatementsArePreparedOncePerConnection(t *testing.T) {
	d := testdb.New(t)
	ctx := context.Background()
	conn, err := d.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var mode string
	if err := conn.QueryRowContext(ctx, `SHOW plan_cache_mode`).Scan(&mode); err != nil || mode != "force_custom_plan" {
		t.Fatalf("plan_cache_mode %q, %v", mode, err)
	}
	prepared := func() int {
		var n int
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM pg_prepared_statements`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := range 3 {
		var got int
		if err := conn.QueryRowContext(ctx, `SELECT $1::int + 1`, i).Scan(&got); err != nil || got != i+1 {
			t.Fatalf("run %d: %d, %v", i, got, err)
		}
	}
	if n := prepared(); n != 1 {
		t.Fatalf("%d statements prepared for three runs of one, want 1", n)
	}

	if _, err := conn.ExecContext(ctx, `CREATE TEMP TABLE kept (b bytea, j jsonb, n int UNIQUE)`); err != nil {
		t.Fatal(err)
	}
	raw := []byte{0, '\\', 'x', 0xff, '\'', 1}
	insert := `INSERT INTO kept (b, j, n) VALUES ($1, $2, $3)`
	if _, err := conn.ExecContext(ctx, insert, raw, []byte(`{"a": [1, "ü"]}`), 1); err != nil {
		t.Fatal(err)
	}
	var b []byte
	var j string
	if err := conn.QueryRowContext(ctx, `SELECT b, j::text FROM kept WHERE n = $1`, 1).Scan(&b, &j); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, raw) || j != `{"a": [1, "ü"]}` {
		t.Fatalf("read back %q and %s", b, j)
	}

	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, insert, raw, nil, 1); err == nil {
		t.Fatal("a duplicate was inserted")
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, insert, nil, nil, 2); err != nil {
		t.Fatalf("the statement after a failed transaction: %v", err)
	}

	// A statement whose result changes shape fails once, then is
	// prepared again.
	star := `SELECT * FROM kept WHERE n = $1`
	count := func() (int, error) {
		rows, err := conn.QueryContext(ctx, star, 2)
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		return len(cols), err
	}
	if n, err := count(); err != nil || n != 3 {
		t.Fatalf("%d columns, %v", n, err)
	}
	if _, err := conn.ExecContext(ctx, `ALTER TABLE kept ADD COLUMN extra int`); err != nil {
		t.Fatal(err)
	}
	var n int
	for range 2 {
		if n, err = count(); err == nil {
			break
		}
	}
	if err != nil || n != 4 {
		t.Fatalf("after the table changed: %d columns, %v", n, err)
	}
}
