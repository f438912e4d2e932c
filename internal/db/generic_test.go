package db_test

import (
	"database/sql"
	"testing"

	"github.com/lib/pq"

	"github.com/healthmed/healthmed/internal/db"
	"github.com/healthmed/healthmed/internal/testdb"
)

func TestGenericPlansOnEveryConnection(t *testing.T) {
	d := testdb.New(t)
	c, err := pq.NewConnector(d.URL)
	if err != nil {
		t.Fatal(err)
	}
	pool := sql.OpenDB(db.GenericPlans(c))
	defer pool.Close()
	pool.SetMaxIdleConns(0) // every query on a new connection
	for range 3 {
		var mode string
		if err := pool.QueryRow("SHOW plan_cache_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if mode != "force_generic_plan" {
			t.Fatalf("plan_cache_mode = %s", mode)
		}
	}
}
