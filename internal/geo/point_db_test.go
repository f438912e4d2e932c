package geo

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"os"
	"testing"
	"time"

	_ "github.com/lib/pq"
)

// openTestDB connects to HEALTHMED_TEST_DATABASE_URL. Without it the test
// is skipped, unless HEALTHMED_REQUIRE_DB=1 asks for it to fail instead.
func openTestDB(t *testing.T) *sql.DB {
	t.Helper()
	url := os.Getenv("HEALTHMED_TEST_DATABASE_URL")
	if url == "" {
		if os.Getenv("HEALTHMED_REQUIRE_DB") == "1" {
			t.Fatal("HEALTHMED_REQUIRE_DB=1 but HEALTHMED_TEST_DATABASE_URL is not set")
		}
		t.Skip("HEALTHMED_TEST_DATABASE_URL is not set")
	}
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("connecting to the test database: %v", err)
	}
	return db
}

// ensurePostGIS creates the extension if it is missing. Another test
// package may be creating it at the same moment, and the role may lack the
// right to create it, so a failure only counts if it is still missing.
func ensurePostGIS(ctx context.Context, t *testing.T, db *sql.DB) {
	t.Helper()
	_, err := db.ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS postgis`)
	if err == nil {
		return
	}
	var ok bool
	if qerr := db.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis')`).Scan(&ok); qerr != nil || !ok {
		t.Fatalf("CREATE EXTENSION postgis: %v", err)
	}
}

func TestPostGIS(t *testing.T) {
	db := openTestDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ensurePostGIS(ctx, t, db)

	// A temporary table lives in one session, so everything runs on one
	// connection.
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx,
		`CREATE TEMP TABLE geo_points (id int PRIMARY KEY, loc geography(Point,4326))`); err != nil {
		t.Fatal(err)
	}

	points := map[int]Point{
		1:  saoPaulo,                            // São Paulo
		2:  {Lat: -22.9068, Lng: -43.1729},      // Rio de Janeiro
		3:  {Lat: -3.1190, Lng: -60.0217},       // Manaus
		4:  {Lat: -30.0346, Lng: -51.2177},      // Porto Alegre
		5:  {Lat: -3.7319, Lng: -38.5267},       // Fortaleza
		6:  {Lat: 3.8442, Lng: -51.8331},        // Oiapoque
		7:  {Lat: -33.7506, Lng: -53.3959},      // Chuí
		8:  {Lat: -23.5614, Lng: -46.6559},      // Avenida Paulista
		9:  {Lat: 38.7223, Lng: -9.1393},        // Lisbon
		10: {Lat: -2.5e-10, Lng: 1e-07},         // exponent form in EWKT
		11: {Lat: tenth + fifth, Lng: -1.0 / 3}, // full float precision
		12: {Lat: -15.793889123456789, Lng: -47.882778987654321},
	}
	for id, p := range points {
		if _, err := conn.ExecContext(ctx, `INSERT INTO geo_points (id, loc) VALUES ($1, $2)`, id, p); err != nil {
			t.Fatalf("insert %d %v: %v", id, p, err)
		}
	}
	// NULL, from a nil *Point.
	if _, err := conn.ExecContext(ctx, `INSERT INTO geo_points (id, loc) VALUES (100, $1)`, (*Point)(nil)); err != nil {
		t.Fatalf("insert NULL: %v", err)
	}
	// An invalid point never reaches the database.
	if _, err := conn.ExecContext(ctx, `INSERT INTO geo_points (id, loc) VALUES (102, $1)`,
		Point{Lat: math.NaN()}); err == nil {
		t.Error("inserting a NaN point succeeded")
	}

	for id, want := range points {
		// The column itself (hex EWKB from lib/pq), raw big-endian EWKB,
		// raw WKB without SRID, and the text output as a string.
		var col, ewkbXDR, wkb Point
		var text string
		var x, y float64
		var srid int
		err := conn.QueryRowContext(ctx, `
			SELECT loc, ST_AsEWKB(loc::geometry, 'XDR'), ST_AsBinary(loc), loc::text,
			       ST_X(loc::geometry), ST_Y(loc::geometry), ST_SRID(loc)
			FROM geo_points WHERE id = $1`, id).
			Scan(&col, &ewkbXDR, &wkb, &text, &x, &y, &srid)
		if err != nil {
			t.Fatalf("read %d: %v", id, err)
		}
		var fromText Point
		if err := fromText.Scan(text); err != nil {
			t.Fatalf("scan text %q: %v", text, err)
		}
		for name, got := range map[string]Point{"column": col, "EWKB XDR": ewkbXDR, "WKB": wkb, "text": fromText} {
			if got != want {
				t.Errorf("%d via %s: got %v, want %v", id, name, got, want)
			}
		}
		if x != want.Lng || y != want.Lat || srid != SRID {
			t.Errorf("%d: PostGIS sees x=%v y=%v srid=%d, want x=%v y=%v", id, x, y, srid, want.Lng, want.Lat)
		}
	}

	// NULL is an error for a Point.
	var p Point
	err = conn.QueryRowContext(ctx, `SELECT loc FROM geo_points WHERE id = 100`).Scan(&p)
	if !errors.Is(err, ErrNull) {
		t.Errorf("scanning NULL into a Point: %v, want ErrNull", err)
	}

	// Equality against a parameter, as Ent's LocationEQ writes it.
	var id int
	if err := conn.QueryRowContext(ctx, `SELECT id FROM geo_points WHERE loc::geometry ~= $1::geography::geometry`, points[2]).Scan(&id); err != nil || id != 2 {
		t.Errorf("lookup by point: %d, %v", id, err)
	}

	// Haversine against PostGIS's spheroidal distance.
	pairs := [][2]int{{1, 2}, {1, 3}, {4, 5}, {6, 7}, {1, 8}, {5, 9}, {1, 12}, {3, 4}, {10, 1}}
	for _, pr := range pairs {
		var metres float64
		if err := conn.QueryRowContext(ctx, `
			SELECT ST_Distance(a.loc, b.loc) FROM geo_points a, geo_points b
			WHERE a.id = $1 AND b.id = $2`, pr[0], pr[1]).Scan(&metres); err != nil {
			t.Fatal(err)
		}
		pg := metres / 1000
		hv := DistanceKm(points[pr[0]], points[pr[1]])
		rel := math.Abs(hv-pg) / pg
		t.Logf("%d-%d: PostGIS %.3f km, haversine %.3f km, %.3f%%", pr[0], pr[1], pg, hv, rel*100)
		if rel > 0.005 {
			t.Errorf("%d-%d: PostGIS %.3f km, haversine %.3f km: off by %.3f%%", pr[0], pr[1], pg, hv, rel*100)
		}
	}
}
