package bench

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/healthmed/healthmed/bench/workload"
	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/internal/app"
	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/reaction"
)

// TestSearchNeverReadsCredentials records every statement the doctor
// search sends, in every form a client can ask for it, and fails when one
// reads a doctor's e-mail or password hash: a search needs neither, and
// what is never read cannot leak.
func TestSearchNeverReadsCredentials(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled())
	ctx := context.Background()
	if _, _, err := workload.SeedDoctors(ctx, env.DB.SQL, 500, 2); err != nil {
		t.Fatalf("seed: %v", err)
	}
	rec := &recordingDriver{Driver: entsql.OpenDB(dialect.Postgres, env.DB.SQL)}
	a, err := app.Build(ctx, env.Config, slog.New(slog.NewTextHandler(io.Discard, nil)), env.DB.SQL,
		ent.NewClient(ent.Driver(rec), ent.Reactions(&reaction.Deps{})))
	if err != nil {
		t.Fatalf("build app: %v", err)
	}
	const op = `query($near: GeoPointInput, $km: Float, $s: String, $min: Float) {
		doctors(near: $near, withinKm: $km, specialty: $s, minRating: $min, first: 5) {
			totalCount edges { cursor node { id createdAt name crm specialty priceCents timezone rating ratingCount
				location { lat lng } distanceKm nextFreeSlot { id } slots { id } } }
		}
	}`
	near := map[string]any{"lat": workload.SaoPauloLat, "lng": workload.SaoPauloLng}
	for _, vars := range []map[string]any{
		{},
		{"s": "Cardiology", "min": 3.0},
		{"near": near},
		{"near": near, "km": 20.0, "s": "Cardiology"},
		{"near": near, "km": 20.0, "min": 4.0},
	} {
		graphql(t, a.Handler, op, vars)
	}
	read := 0
	for _, q := range rec.all() {
		if !strings.Contains(q.SQL, `FROM "doctors"`) {
			continue
		}
		read++
		for _, col := range []string{doctor.FieldEmail, doctor.FieldPasswordHash} {
			if strings.Contains(q.SQL, `"`+col+`"`) {
				t.Errorf("the search reads %s:\n%s", col, q.SQL)
			}
		}
	}
	if read < 5 {
		t.Fatalf("recorded %d statements on doctors, want at least one per search: %+v", read, rec.all())
	}
}

// TestSearchReadsOnlySelectedColumns checks that a page reads the columns
// of the fields the client asked for, and the rest only when a field the
// search does not know is selected.
func TestSearchReadsOnlySelectedColumns(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled())
	ctx := context.Background()
	if _, _, err := workload.SeedDoctors(ctx, env.DB.SQL, 200, 3); err != nil {
		t.Fatalf("seed: %v", err)
	}
	rec := &recordingDriver{Driver: entsql.OpenDB(dialect.Postgres, env.DB.SQL)}
	a, err := app.Build(ctx, env.Config, slog.New(slog.NewTextHandler(io.Discard, nil)), env.DB.SQL,
		ent.NewClient(ent.Driver(rec), ent.Reactions(&reaction.Deps{})))
	if err != nil {
		t.Fatalf("build app: %v", err)
	}
	near := map[string]any{"lat": workload.SaoPauloLat, "lng": workload.SaoPauloLng}
	for _, c := range []struct {
		node       string
		read, skip []string
	}{
		{"id name distanceKm nextFreeSlot { id }", []string{doctor.FieldName}, []string{doctor.FieldTimezone, doctor.FieldCrmNumber, doctor.FieldPriceCents}},
		{"... on Doctor { crm priceCents }", []string{doctor.FieldCrmNumber, doctor.FieldCrmState, doctor.FieldPriceCents}, []string{doctor.FieldName, doctor.FieldRating}},
		{"createdAt timezone ratingCount", []string{doctor.FieldCreatedAt, doctor.FieldTimezone, doctor.FieldRatingCount}, []string{doctor.FieldName}},
	} {
		rec.mu.Lock()
		rec.queries = nil
		rec.mu.Unlock()
		graphql(t, a.Handler, `query($near: GeoPointInput) { doctors(near: $near, withinKm: 50, first: 3) { edges { node { `+c.node+` } } } }`,
			map[string]any{"near": near})
		pages := rec.matching(`FROM "doctors"`)
		if len(pages) != 1 {
			t.Fatalf("%s: %d statements on doctors, want 1", c.node, len(pages))
		}
		// The next free slots come with the page, in the same statement.
		if more := rec.matching(`FROM "slots"`); len(more) > 0 {
			t.Errorf("%s: the slots were read apart from the page: %+v", c.node, more)
		}
		for _, col := range c.read {
			if !strings.Contains(pages[0].SQL, `"doctors"."`+col+`"`) {
				t.Errorf("%s: the page does not read %s:\n%s", c.node, col, pages[0].SQL)
			}
		}
		for _, col := range c.skip {
			if strings.Contains(pages[0].SQL, `"doctors"."`+col+`"`) {
				t.Errorf("%s: the page reads %s, which nothing asked for:\n%s", c.node, col, pages[0].SQL)
			}
		}
	}
}
