package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strings"

	"ariga.io/atlas/sql/migrate"
)

// Migrations holds the versioned SQL files: generated from the Ent schema by
// `go run ./cmd/migrategen`, plus hand-written files for what Ent cannot
// express (extensions, exclusion constraints, triggers).
//
//go:embed migrations/*.sql migrations/atlas.sum
var Migrations embed.FS

// migrationLock is the advisory lock key that serialises replicas starting
// together, so each file runs exactly once.
const migrationLock = 0x6865616c74686d64 // "healthmd"

// Migrate applies every file not applied yet, in order, each in its own
// transaction. It refuses to run when a file was edited after being applied
// or when atlas.sum does not match the files.
func Migrate(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	return migrateBefore(ctx, db, log, "")
}

// migrateBefore applies the files up to version before (all of them when
// before is empty); a test of a data migration stops there to write the
// rows the migration must convert.
func migrateBefore(ctx context.Context, db *sql.DB, log *slog.Logger, before string) error {
	files, err := migrationFiles()
	if err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLock)); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrationLock)) //nolint:errcheck
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version text PRIMARY KEY,
		checksum text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("migration table: %w", err)
	}
	applied := map[string]string{}
	rows, err := conn.QueryContext(ctx, `SELECT version, checksum FROM schema_migrations`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var v, c string
		if err := rows.Scan(&v, &c); err != nil {
			rows.Close()
			return err
		}
		applied[v] = c
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, f := range files {
		if before != "" && f.version >= before {
			break
		}
		if sum, ok := applied[f.version]; ok {
			if sum != f.checksum {
				return fmt.Errorf("migration %s changed after it was applied", f.name)
			}
			continue
		}
		if err := apply(ctx, conn, f); err != nil {
			return err
		}
		log.InfoContext(ctx, "migration applied", "version", f.version, "file", f.name)
	}
	return nil
}

func apply(ctx context.Context, conn *sql.Conn, f migrationFile) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck
	// Without arguments lib/pq sends the file as one simple query, so a
	// file may hold many statements.
	if _, err := tx.ExecContext(ctx, f.sql); err != nil {
		return fmt.Errorf("migration %s: %w", f.name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)`,
		f.version, f.checksum); err != nil {
		return err
	}
	return tx.Commit()
}

type migrationFile struct {
	name, version, checksum, sql string
}

func migrationFiles() ([]migrationFile, error) {
	sub, err := fs.Sub(Migrations, "migrations")
	if err != nil {
		return nil, err
	}
	if err := verifySum(sub); err != nil {
		return nil, err
	}
	names, err := fs.Glob(sub, "*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]migrationFile, 0, len(names))
	for _, n := range names {
		b, err := fs.ReadFile(sub, n)
		if err != nil {
			return nil, err
		}
		h := sha256.Sum256(b)
		version, _, _ := strings.Cut(n, "_")
		out = append(out, migrationFile{name: n, version: version, checksum: hex.EncodeToString(h[:]), sql: string(b)})
	}
	return out, nil
}

// verifySum checks atlas.sum, so a hand edit that skipped regeneration of
// the sum file is caught before anything runs.
func verifySum(dir fs.FS) error {
	mem := &migrate.MemDir{}
	entries, err := fs.ReadDir(dir, ".")
	if err != nil {
		return err
	}
	for _, e := range entries {
		b, err := fs.ReadFile(dir, e.Name())
		if err != nil {
			return err
		}
		if err := mem.WriteFile(e.Name(), b); err != nil {
			return err
		}
	}
	if err := migrate.Validate(mem); err != nil {
		return fmt.Errorf("migrations directory: %w", err)
	}
	return nil
}
