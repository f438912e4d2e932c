// Package testdb gives each test its own freshly migrated PostgreSQL+PostGIS
// database, copied from a template that is migrated once per migration set.
package testdb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"testing"

	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/lib/pq"

	"github.com/healthmed/healthmed/ent"
	_ "github.com/healthmed/healthmed/ent/runtime"
	"github.com/healthmed/healthmed/internal/db"
)

// EnvURL names the variable pointing at a database the tests may use to
// create and drop their own databases.
const EnvURL = "HEALTHMED_TEST_DATABASE_URL"

// DB is one test's database.
type DB struct {
	URL    string
	SQL    *sql.DB
	Client *ent.Client
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// New returns a migrated database of the test's own, dropped when the test
// ends. Without HEALTHMED_TEST_DATABASE_URL the test is skipped, unless
// HEALTHMED_REQUIRE_DB=1 (as `make test` sets), which makes it fail.
func New(t testing.TB) *DB {
	t.Helper()
	base := AdminURL(t)
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(base) })
	if templateErr != nil {
		t.Fatalf("test database template: %v", templateErr)
	}
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := "hmt_" + randomHex(8)
	if _, err := admin.Exec(fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, templateName)); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	u := withDB(base, name)
	sqlDB, err := db.Open(u)
	if err != nil {
		t.Fatal(err)
	}
	// Like the server's pool: bounded, so a test that hammers the handler
	// queues for connections instead of exhausting PostgreSQL's.
	sqlDB.SetMaxOpenConns(20)
	client := ent.NewClient(ent.Driver(entsql.OpenDB("postgres", sqlDB)))
	t.Cleanup(func() {
		client.Close()
		sqlDB.Close()
		admin, err := sql.Open("postgres", base)
		if err == nil {
			admin.Exec(fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name)) //nolint:errcheck
			admin.Close()
		}
	})
	return &DB{URL: u, SQL: sqlDB, Client: client}
}

// AdminURL returns the base test database URL or skips/fails the test.
func AdminURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		if os.Getenv("HEALTHMED_REQUIRE_DB") == "1" {
			t.Fatalf("%s is not set but HEALTHMED_REQUIRE_DB=1", EnvURL)
		}
		t.Skipf("%s not set: database test skipped", EnvURL)
	}
	return base
}

// ensureTemplate migrates a template database named after the migrations'
// hash, so parallel test binaries share it and a change of migrations
// gets a new one.
func ensureTemplate(base string) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(db.Migrations, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(db.Migrations, p)
		h.Write([]byte(p))
		h.Write(b)
		return err
	})
	if err != nil {
		return "", err
	}
	name := "hmtmpl_" + hex.EncodeToString(h.Sum(nil))[:16]
	admin, err := sql.Open("postgres", base)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	ctx := context.Background()
	conn, err := admin.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	// Test binaries run in parallel: one of them builds the template.
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7243)`); err != nil {
		return "", err
	}
	defer conn.ExecContext(ctx, `SELECT pg_advisory_unlock(7243)`) //nolint:errcheck
	var ready bool
	if err := conn.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)`, name).Scan(&ready); err != nil {
		return "", err
	}
	if ready {
		return name, nil
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name)); err != nil {
		return "", err
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %s`, name)); err != nil {
		return "", err
	}
	tdb, err := sql.Open("postgres", withDB(base, name))
	if err != nil {
		return "", err
	}
	err = db.Migrate(ctx, tdb, slog.New(slog.NewTextHandler(io.Discard, nil)))
	tdb.Close()
	if err != nil {
		return "", err
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`ALTER DATABASE %s WITH is_template true`, name)); err != nil {
		return "", err
	}
	return name, nil
}

func withDB(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
