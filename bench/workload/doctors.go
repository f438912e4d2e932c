// Package workload is what the load benchmarks share: the seeded country
// of doctors, their free slots, and the operations measured against them,
// so that a figure from one harness can be set beside another's.
//
// Raw SQL is only used for seeding (COPY of the doctors, VACUUM ANALYZE):
// registering 100,000 doctors through the API would measure password
// hashing for minutes.
package workload

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/healthmed/healthmed/ent/doctor"
)

// centre is a named place the seeded doctors cluster around.
type centre struct {
	name     string
	lat, lng float64
	sigmaKm  float64 // standard deviation of the scatter, per axis
	state    string  // CRM state of the doctors there
	weight   float64 // share of all doctors
}

// São Paulo's centre (Praça da Sé), the point the searches use.
const SaoPauloLat, SaoPauloLng = -23.5505, -46.6333

// The three big metropolitan areas take 60% of the doctors; other
// capitals 20%; the remaining 20% are scattered over Brazil's bounding box.
var centres = []centre{
	{"São Paulo", SaoPauloLat, SaoPauloLng, 15, "SP", 0.35},
	{"Rio de Janeiro", -22.9068, -43.1729, 12, "RJ", 0.15},
	{"Belo Horizonte", -19.9167, -43.9345, 10, "MG", 0.10},
	{"Brasília", -15.7939, -47.8828, 10, "DF", 0.03},
	{"Salvador", -12.9777, -38.5016, 8, "BA", 0.03},
	{"Fortaleza", -3.7319, -38.5267, 8, "CE", 0.02},
	{"Recife", -8.0476, -34.8770, 6, "PE", 0.02},
	{"Curitiba", -25.4284, -49.2733, 8, "PR", 0.03},
	{"Porto Alegre", -30.0346, -51.2177, 8, "RS", 0.03},
	{"Manaus", -3.1190, -60.0217, 8, "AM", 0.02},
	{"Goiânia", -16.6869, -49.2648, 8, "GO", 0.02},
}

// Brazil's bounding box, for the scattered remainder.
const minLat, maxLat, minLng, maxLng = -33.7, 5.2, -73.9, -34.8

var (
	specialties = []string{"Cardiology", "Dermatology", "Pediatrics", "General Practice", "Psychiatry", "Orthopedics", "Gynecology"}
	states      = []string{"SP", "RJ", "MG", "BA", "PR", "RS", "PE", "CE", "PA", "GO", "AM", "MT", "MS", "SC", "ES"}
)

// seededDoctor is one row of the seed.
type seededDoctor struct {
	lat, lng    float64
	state       string
	specialty   string
	priceCents  int
	rating      float64
	ratingCount int
}

// doctorAt draws the next doctor of a seed from r.
func doctorAt(r *rand.Rand) seededDoctor {
	d := seededDoctor{
		specialty:   specialties[r.IntN(len(specialties))],
		priceCents:  10000 + 500*r.IntN(61), // R$100 to R$400
		rating:      math.Round((2.5+2.5*r.Float64())*10) / 10,
		ratingCount: r.IntN(400),
	}
	x := r.Float64()
	for _, c := range centres {
		if x < c.weight {
			// Gaussian scatter in km, converted to degrees at that latitude.
			d.lat = c.lat + r.NormFloat64()*c.sigmaKm/111.32
			d.lng = c.lng + r.NormFloat64()*c.sigmaKm/(111.32*math.Cos(c.lat*math.Pi/180))
			d.state = c.state
			return d
		}
		x -= c.weight
	}
	d.lat = minLat + r.Float64()*(maxLat-minLat)
	d.lng = minLng + r.Float64()*(maxLng-minLng)
	d.state = states[r.IntN(len(states))]
	return d
}

// SeedDoctors copies n doctors into the database in one COPY and analyses
// the table, so the planner sees the data as it would in production. The
// same seed always yields the same doctors.
func SeedDoctors(ctx context.Context, db *sql.DB, n int, seed uint64) (copyTime, analyzeTime time.Duration, err error) {
	start := time.Now()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	// lib/pq streams a prepared COPY ... FROM STDIN (what the deprecated
	// pq.CopyIn builds) with the copy-in protocol, buffering the rows.
	stmt, err := tx.PrepareContext(ctx, CopyFrom(doctor.Table,
		doctor.FieldCreatedAt, doctor.FieldUpdatedAt, doctor.FieldName, doctor.FieldEmail,
		doctor.FieldPasswordHash, doctor.FieldCrmNumber, doctor.FieldCrmState, doctor.FieldSpecialty,
		doctor.FieldPriceCents, doctor.FieldLocation, doctor.FieldTimezone, doctor.FieldRating,
		doctor.FieldRatingCount, doctor.FieldVerification))
	if err != nil {
		return 0, 0, fmt.Errorf("prepare COPY: %w", err)
	}
	r := rand.New(rand.NewPCG(seed, 0x6865616c74686d65))
	now := time.Now().UTC()
	// Emails and CRM numbers derive from the row number: one seed per table.
	for i := 0; i < n; i++ {
		d := doctorAt(r)
		loc := fmt.Sprintf("SRID=4326;POINT(%.6f %.6f)", d.lng, d.lat)
		if _, err := stmt.ExecContext(ctx, now, now,
			fmt.Sprintf("Dr. Bench %06d", i), fmt.Sprintf("bench%06d@doctors.example", i),
			"!unusable", fmt.Sprintf("%07d", i), d.state, d.specialty,
			d.priceCents, loc, "America/Sao_Paulo", d.rating, d.ratingCount, verificationAt(i)); err != nil {
			return 0, 0, fmt.Errorf("COPY row %d: %w", i, err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return 0, 0, fmt.Errorf("flush COPY: %w", err)
	}
	if err := stmt.Close(); err != nil {
		return 0, 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, err
	}
	copyTime = time.Since(start)
	start = time.Now()
	// VACUUM too, as a database in service has been: otherwise the
	// autovacuum of the new rows (and every index) starts within a minute,
	// in the middle of the measurements, and the first reads of each page
	// write its hint bits.
	if _, err := db.ExecContext(ctx, "VACUUM (ANALYZE) "+pq.QuoteIdentifier(doctor.Table)); err != nil {
		return 0, 0, fmt.Errorf("vacuum: %w", err)
	}
	return copyTime, time.Since(start), nil
}

// verificationAt gives one seeded doctor in fifty a CRM still to check,
// about the share a clinic's queue holds, so the search's plans are
// measured with doctors it must skip.
func verificationAt(i int) string {
	if i%50 == 49 {
		return string(doctor.VerificationPENDING)
	}
	return string(doctor.VerificationVERIFIED)
}

// CopyFrom is the COPY statement for the columns of table; the names
// come from Ent's generated constants, so they follow the schema.
func CopyFrom(table string, columns ...string) string {
	quoted := make([]string, len(columns))
	for i, c := range columns {
		quoted[i] = pq.QuoteIdentifier(c)
	}
	return "COPY " + pq.QuoteIdentifier(table) + " (" + strings.Join(quoted, ", ") + ") FROM STDIN"
}

// DescribeSeed is the one-line summary of a seed for the logs.
func DescribeSeed(n int, copyTime, analyzeTime time.Duration) string {
	return fmt.Sprintf("seeded %d doctors in %s (COPY %s, VACUUM ANALYZE %s)", n,
		(copyTime + analyzeTime).Round(time.Millisecond), copyTime.Round(time.Millisecond),
		analyzeTime.Round(time.Millisecond))
}
