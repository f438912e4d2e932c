package db_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	entschema "entgo.io/ent/dialect/sql/schema"
	_ "github.com/lib/pq"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/internal/db"
	"github.com/healthmed/healthmed/internal/testdb"
)

// emptyDB creates a database with nothing in it, not even PostGIS.
func emptyDB(t *testing.T) *sql.DB {
	base := testdb.AdminURL(t)
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	name := fmt.Sprintf("hm_mig_%d", time.Now().UnixNano())
	if _, err := admin.Exec(`CREATE DATABASE ` + name + ` TEMPLATE template0`); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(base)
	u.Path = "/" + name
	d, err := sql.Open("postgres", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Close()
		admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`) //nolint:errcheck
	})
	return d
}

func TestMigrationsApplyToEmptyDatabaseAndAreIdempotent(t *testing.T) {
	d := emptyDB(t)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := db.Migrate(ctx, d, log); err != nil {
		t.Fatalf("first run: %v", err)
	}
	var applied int
	if err := d.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, d, log); err != nil {
		t.Fatalf("second run: %v", err)
	}
	var again int
	if err := d.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&again); err != nil {
		t.Fatal(err)
	}
	if applied == 0 || again != applied {
		t.Fatalf("applied %d then %d migrations", applied, again)
	}
	for _, ext := range []string{"postgis", "btree_gist"} {
		var ok bool
		if err := d.QueryRow(`SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = $1)`, ext).Scan(&ok); err != nil || !ok {
			t.Errorf("extension %s missing (err %v)", ext, err)
		}
	}
}

// TestMigrationsMatchEntSchema fails when ent/schema changed without a new
// migration: Ent's own diff against the migrated database must be empty.
func TestMigrationsMatchEntSchema(t *testing.T) {
	d := emptyDB(t)
	ctx := context.Background()
	if err := db.Migrate(ctx, d, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	client := ent.NewClient(ent.Driver(entsql.OpenDB("postgres", d)))
	var buf bytes.Buffer
	if err := client.Schema.WriteTo(ctx, &buf, entschema.WithDiffHook(db.KeepNoDrops)); err != nil {
		t.Fatal(err)
	}
	var changes []string
	for _, line := range strings.Split(buf.String(), "\n") {
		if l := strings.TrimSpace(line); l != "" && l != "BEGIN;" && l != "COMMIT;" {
			changes = append(changes, l)
		}
	}
	if len(changes) > 0 {
		t.Fatalf("ent schema and migrations differ; run `go run ./cmd/migrategen -name <change>`:\n%s",
			strings.Join(changes, "\n"))
	}
}

func TestEditedMigrationIsRefused(t *testing.T) {
	d := emptyDB(t)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := db.Migrate(ctx, d, log); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(`UPDATE schema_migrations SET checksum = 'x' WHERE version = (SELECT min(version) FROM schema_migrations)`); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, d, log); err == nil || !strings.Contains(err.Error(), "changed after it was applied") {
		t.Fatalf("err = %v, want a refusal", err)
	}
}

func TestAuditEventsAreAppendOnly(t *testing.T) {
	tdb := testdb.New(t)
	if _, err := tdb.SQL.Exec(`INSERT INTO audit_events (created_at, action, allowed, actor_role) VALUES (now(), 'DOWNLOAD', true, 'doctor')`); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{`UPDATE audit_events SET allowed = false`, `DELETE FROM audit_events`, `TRUNCATE audit_events`} {
		if _, err := tdb.SQL.Exec(stmt); err == nil {
			t.Errorf("%s succeeded on the audit log", stmt)
		}
	}
}
