package db_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/internal/db"
	"github.com/healthmed/healthmed/internal/testdb"
)

// TestPreparedKeepsStatementsWithinItsBound runs Ent queries through the
// prepared driver: a repeated text reuses its statement, the cache keeps
// at most its bound while queries run concurrently (an evicted statement
// is closed only when its rows are), and transactions still work.
func TestPreparedKeepsStatementsWithinItsBound(t *testing.T) {
	d := testdb.New(t)
	ctx := context.Background()
	drv := db.NewPrepared(d.SQL, 2)
	client := ent.NewClient(ent.Driver(drv))

	tx, err := client.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Doctor.Query().Count(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := drv.Len(); n != 0 {
		t.Fatalf("a transaction's statement was kept prepared: %d", n)
	}

	for range 3 {
		if _, err := client.Doctor.Query().Where(doctor.Specialty("Cardiology")).Count(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := drv.Len(); n != 1 {
		t.Fatalf("one text repeated: %d statements prepared, want 1", n)
	}

	// Five different texts (IN lists of different lengths) from many
	// goroutines: the cache evicts while rows are open.
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids := make([]int, 1+i%5)
			for j := range ids {
				ids[j] = j + 1
			}
			if _, err := client.Doctor.Query().Where(doctor.IDIn(ids...)).All(ctx); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := drv.Len(); n > 2 {
		t.Fatalf("%d statements prepared, want at most 2", n)
	}
}

// TestPreparedLetsShortStatementsFinish: a statement running when its
// request ends finishes on its connection (lib/pq would close the
// connection to cancel it), one that runs past db.CancelGrace is
// cancelled, and none starts once the request has ended.
func TestPreparedLetsShortStatementsFinish(t *testing.T) {
	d := testdb.New(t)
	d.SQL.SetMaxOpenConns(1)
	drv := db.NewPrepared(d.SQL, 8)
	pid := func() int {
		rows, err := drv.QueryContext(context.Background(), "SELECT pg_backend_pid()")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var p int
		for rows.Next() {
			if err := rows.Scan(&p); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	before := pid()

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(10*time.Millisecond, cancel)
	rows, err := drv.QueryContext(ctx, "SELECT pg_sleep(0.04)")
	if err != nil {
		t.Fatalf("a short statement was cancelled: %v", err)
	}
	for rows.Next() {
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if after := pid(); after != before {
		t.Fatalf("the connection was replaced (backend %d, then %d)", before, after)
	}

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(10*time.Millisecond, cancel)
	start := time.Now()
	rows, err = drv.QueryContext(ctx, "SELECT pg_sleep(5)")
	if err == nil {
		for rows.Next() {
		}
		err = rows.Close()
		if err == nil {
			err = rows.Err()
		}
	}
	if took := time.Since(start); err == nil || took > 3*time.Second {
		t.Fatalf("a long statement ran on for %s after its request ended (err %v)", took, err)
	}

	if _, err := drv.QueryContext(ctx, "SELECT 1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("a statement started for a request that had ended: %v", err)
	}
}

// TestPreparedDescribesColumnsOnce: Ent asks a statement's column types
// at every row of a column no entity field holds; they are described
// once per result, and the rows still scan.
func TestPreparedDescribesColumnsOnce(t *testing.T) {
	d := testdb.New(t)
	ctx := context.Background()
	drv := db.NewPrepared(d.SQL, 2)
	var rows entsql.Rows
	if err := drv.Query(ctx, `SELECT g, g * 0.5 FROM generate_series(1, $1::int) g`, []any{3}, &rows); err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		first, err := rows.ColumnTypes()
		if err != nil {
			t.Fatal(err)
		}
		again, _ := rows.ColumnTypes()
		if len(first) != 2 || &first[0] != &again[0] || first[1].DatabaseTypeName() != "NUMERIC" {
			t.Fatalf("column types %v then %v", first, again)
		}
		var g int
		var half float64
		if err := rows.Scan(&g, &half); err != nil || half != float64(g)/2 {
			t.Fatalf("row %d: %v %v", g, half, err)
		}
		n++
	}
	if err := rows.Err(); err != nil || n != 3 {
		t.Fatalf("%d rows, %v", n, err)
	}
}
