package db_test

import (
	"context"
	"sync"
	"testing"

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
