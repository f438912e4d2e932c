// Command migrategen writes the next versioned migration from the Ent
// schema: it replays the existing files on a scratch database, diffs the
// result against the schema and writes what is missing, then refreshes
// atlas.sum (which hand-written files need too).
//
//	go run ./cmd/migrategen -name add_feedback
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	atlas "ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entschema "entgo.io/ent/dialect/sql/schema"
	_ "github.com/lib/pq"

	"github.com/healthmed/healthmed/ent/migrate"
	"github.com/healthmed/healthmed/internal/db"
)

func main() {
	name := flag.String("name", "", "name of the migration (empty: only refresh atlas.sum)")
	dir := flag.String("dir", "internal/db/migrations", "migrations directory")
	admin := flag.String("admin-url", envOr("HEALTHMED_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		"a PostgreSQL with PostGIS where a scratch database may be created")
	flag.Parse()
	if err := run(context.Background(), *name, *dir, *admin); err != nil {
		fmt.Fprintln(os.Stderr, "migrategen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, name, dirPath, adminURL string) error {
	dir, err := atlas.NewLocalDir(dirPath)
	if err != nil {
		return err
	}
	if name != "" {
		devURL, drop, err := scratchDB(ctx, adminURL)
		if err != nil {
			return err
		}
		defer drop()
		err = migrate.NamedDiff(ctx, devURL, name,
			entschema.WithDir(dir),
			entschema.WithMigrationMode(entschema.ModeReplay),
			entschema.WithDialect(dialect.Postgres),
			entschema.WithFormatter(atlas.DefaultFormatter),
			entschema.WithDiffHook(db.KeepNoDrops),
		)
		if err != nil {
			return fmt.Errorf("diff: %w", err)
		}
	}
	sum, err := dir.Checksum()
	if err != nil {
		return err
	}
	return atlas.WriteSumFile(dir, sum)
}

func scratchDB(ctx context.Context, adminURL string) (string, func(), error) {
	admin, err := sql.Open("postgres", adminURL)
	if err != nil {
		return "", nil, err
	}
	name := fmt.Sprintf("healthmed_migrategen_%d", time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		admin.Close()
		return "", nil, err
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`) //nolint:errcheck
		admin.Close()
	}
	return u.String(), drop, nil
}

func envOr(k, def string) string {
	if v := strings.TrimSpace(os.Getenv(k)); v != "" {
		return v
	}
	return def
}
