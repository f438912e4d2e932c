package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/healthmed/healthmed/bench/workload"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/feedback"
	"github.com/healthmed/healthmed/ent/invoice"
	"github.com/healthmed/healthmed/ent/patient"
	"github.com/healthmed/healthmed/ent/slot"
	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/viewer"
)

// The reports benchmark's clinic: two years of history.
const (
	reportDoctors  = 1_000
	reportPatients = 20_000
	// reportAppointments is the default size; HEALTHMED_BENCH_APPOINTMENTS
	// changes it (a smaller run for a quick look).
	reportAppointments = 1_000_000
	// Each doctor has one consultation every 17 hours, so a doctor's
	// slots never overlap and neither do a patient's.
	reportStep = 17 * time.Hour
)

var reportOps = []struct{ name, query string }{
	{"consultations", `query($from: Time!, $to: Time!) { consultationsReport(from: $from, to: $to) { doctorId status count } }`},
	{"revenue", `query($from: Time!, $to: Time!) { revenueReport(from: $from, to: $to) { month revenueCents invoices } }`},
	{"ratings", `query($from: Time!, $to: Time!) { ratingsReport(from: $from, to: $to) { doctorId average ratings } }`},
	{"noshow", `query($from: Time!, $to: Time!) { noShowReport(from: $from, to: $to) { total { eligible noShows rate } byDoctor { doctorId figures { rate } } } }`},
}

// BenchmarkReports times each admin report through the HTTP handler on a
// clinic with 1,000,000 appointments (1,000 doctors, 20,000 patients, two
// years), over the whole history and over one month. The seed is COPY,
// then VACUUM ANALYZE, as a production table would have been vacuumed.
func BenchmarkReports(b *testing.B) {
	n := reportAppointments
	if s := os.Getenv("HEALTHMED_BENCH_APPOINTMENTS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < reportDoctors {
			b.Fatalf("HEALTHMED_BENCH_APPOINTMENTS=%q: want at least %d", s, reportDoctors)
		}
	}
	env := apptest.New(b, apptest.Unthrottled())
	ctx := context.Background()
	start := time.Now()
	if _, _, err := workload.SeedDoctors(ctx, env.DB.SQL, reportDoctors, 7); err != nil {
		b.Fatal(err)
	}
	first, counts, err := seedClinic(ctx, env.DB.SQL, n, time.Now().UTC())
	if err != nil {
		b.Fatalf("seed: %v", err)
	}
	seedTime := time.Since(start)
	start = time.Now()
	for _, t := range []string{"appointments", "invoices", "feedbacks", "slots"} {
		if _, err := env.DB.SQL.ExecContext(ctx, "VACUUM ANALYZE "+pq.QuoteIdentifier(t)); err != nil {
			b.Fatal(err)
		}
	}
	vacuumTime := time.Since(start)
	admin, err := env.DB.Client.Admin.Create().SetName("Bench").SetEmail("bench@admin.test").SetPasswordHash("!").
		Save(viewer.SystemContext(ctx))
	if err != nil {
		b.Fatal(err)
	}
	token, _, err := env.App.Issuer.IssueSession(strconv.Itoa(admin.ID), "admin", "bench-sign-in")
	if err != nil {
		b.Fatal(err)
	}
	c := newClient(env.Server.URL, 1)
	defer c.close()
	ranges := []struct {
		name     string
		from, to time.Time
	}{
		{"all", first.Add(-time.Hour), time.Now().UTC().Add(30 * 24 * time.Hour)},
		{"month", first.AddDate(1, 0, 0), first.AddDate(1, 1, 0)},
	}
	var setupLog sync.Once
	for _, op := range reportOps {
		for _, r := range ranges {
			payload := body(op.query, map[string]any{"from": r.from.Format(time.RFC3339), "to": r.to.Format(time.RFC3339)})
			b.Run(op.name+"/"+r.name, func(b *testing.B) {
				setupLog.Do(func() {
					b.Logf("seeded %d appointments (%s) in %s, VACUUM ANALYZE %s", n, counts,
						seedTime.Round(time.Second), vacuumTime.Round(time.Second))
				})
				var lat latencies
				durs := make([]time.Duration, 0, b.N)
				for i := 0; i < b.N; i++ {
					t0 := time.Now()
					raw, err := c.post(token, payload)
					durs = append(durs, time.Since(t0))
					if err != nil {
						b.Fatal(err)
					}
					if i == 0 {
						var out struct {
							Errors []gqlError `json:"errors"`
						}
						if json.Unmarshal(raw, &out) != nil || len(out.Errors) > 0 {
							b.Fatalf("report failed: %s", raw[:min(len(raw), 300)])
						}
					}
				}
				lat.add(durs)
				lat.report(b)
			})
		}
	}
}

// seedClinic copies n appointments with their slots, the invoices of the
// completed ones and a rating for some, into a database that has the
// doctors already. It returns the first appointment's start and a
// summary of what it wrote.
func seedClinic(ctx context.Context, db *sql.DB, n int, now time.Time) (time.Time, string, error) {
	doctors, err := ids(ctx, db, "SELECT id, price_cents FROM doctors ORDER BY id")
	if err != nil {
		return time.Time{}, "", err
	}
	if err := copyRows(ctx, db, patient.Table, []string{patient.FieldCreatedAt, patient.FieldUpdatedAt, patient.FieldName,
		patient.FieldEmail, patient.FieldCpf, patient.FieldPasswordHash}, reportPatients, func(i int) []any {
		return []any{now, now, fmt.Sprintf("Patient %05d", i), fmt.Sprintf("p%05d@bench.example", i), fmt.Sprintf("%011d", 10_000_000_000+i), "!"}
	}); err != nil {
		return time.Time{}, "", err
	}
	patients, err := ids(ctx, db, "SELECT id, 0 FROM patients ORDER BY id")
	if err != nil {
		return time.Time{}, "", err
	}
	// Explicit ids from each table's own range, so the three COPYs can
	// refer to one another without reading back a million ids.
	var slotBase, apptBase, invBase, fbBase int64
	for _, q := range []struct {
		table string
		v     *int64
	}{{slot.Table, &slotBase}, {appointment.Table, &apptBase}, {invoice.Table, &invBase}, {feedback.Table, &fbBase}} {
		if err := db.QueryRowContext(ctx, `SELECT nextval(pg_get_serial_sequence($1, 'id'))`, q.table).Scan(q.v); err != nil {
			return time.Time{}, "", err
		}
	}
	// About 1/70 of the history (ten days of two years) lies ahead.
	span := time.Duration(n/len(doctors)) * reportStep
	first := now.Add(-span + span/70).Truncate(time.Hour)
	type row struct {
		start              time.Time
		doctor, patient    int64
		price              int
		status             appointment.Status
		invoice, feedback  bool
		paid, void, system bool
		stars              int
		paidAfter          time.Duration
	}
	r := rand.New(rand.NewPCG(2026, 7))
	rows := make([]row, n)
	var completed, invoices, ratings int
	for i := range rows {
		d := doctors[i%len(doctors)]
		w := row{start: first.Add(time.Duration(i/len(doctors)) * reportStep), doctor: d[0], price: int(d[1]),
			patient: patients[i%len(patients)][0]}
		x := r.Float64()
		switch {
		case w.start.After(now) && x < 0.5:
			w.status = appointment.StatusREQUESTED
		case w.start.After(now):
			w.status = appointment.StatusACCEPTED
		case x < 0.65:
			w.status = appointment.StatusCOMPLETED
		case x < 0.77:
			w.status = appointment.StatusCANCELLED
		case x < 0.85:
			w.status = appointment.StatusREJECTED
		case x < 0.95:
			w.status = appointment.StatusACCEPTED
		default:
			w.status = appointment.StatusREQUESTED
		}
		if w.status == appointment.StatusCOMPLETED {
			completed++
			invoices++
			w.invoice = true
			y := r.Float64()
			w.paid, w.void = y < 0.8, y >= 0.95
			w.system = r.Float64() < 0.1
			w.paidAfter = time.Duration(r.IntN(10*24)) * time.Hour
			if r.Float64() < 0.4 {
				w.feedback, w.stars = true, 1+r.IntN(5)
				ratings++
			}
		}
		rows[i] = w
	}
	if err := copyRows(ctx, db, slot.Table, []string{"id", slot.FieldCreatedAt, slot.FieldUpdatedAt, slot.FieldDoctorID,
		slot.FieldStartsAt, slot.FieldEndsAt}, n, func(i int) []any {
		w := rows[i]
		return []any{slotBase + int64(i), now, now, w.doctor, w.start, w.start.Add(50 * time.Minute)}
	}); err != nil {
		return time.Time{}, "", err
	}
	if err := copyRows(ctx, db, appointment.Table, []string{"id", appointment.FieldCreatedAt, appointment.FieldUpdatedAt,
		appointment.FieldStatus, appointment.FieldSlotID, appointment.FieldDoctorID, appointment.FieldPatientID,
		appointment.FieldStartsAt, appointment.FieldEndsAt, appointment.FieldPriceCents}, n, func(i int) []any {
		w := rows[i]
		return []any{apptBase + int64(i), w.start.Add(-72 * time.Hour), w.start, string(w.status), slotBase + int64(i),
			w.doctor, w.patient, w.start, w.start.Add(50 * time.Minute), w.price}
	}); err != nil {
		return time.Time{}, "", err
	}
	var inv, fb []int
	for i, w := range rows {
		if w.invoice {
			inv = append(inv, i)
		}
		if w.feedback {
			fb = append(fb, i)
		}
	}
	if err := copyRows(ctx, db, invoice.Table, []string{"id", invoice.FieldCreatedAt, invoice.FieldUpdatedAt, invoice.FieldNumber,
		invoice.FieldAppointmentID, invoice.FieldPatientID, invoice.FieldDoctorID, invoice.FieldAmountCents, invoice.FieldStatus,
		invoice.FieldIssuedBy, invoice.FieldServiceAt, invoice.FieldIssuedAt, invoice.FieldPaidAt, invoice.FieldVoidedAt,
		invoice.FieldVoidReason}, len(inv), func(k int) []any {
		i := inv[k]
		w := rows[i]
		issued := w.start.Add(time.Hour)
		status, by := invoice.StatusOPEN, invoice.IssuedByDOCTOR
		var paidAt, voidedAt, reason any
		switch {
		case w.paid:
			status, paidAt = invoice.StatusPAID, issued.Add(w.paidAfter)
		case w.void:
			status, voidedAt, reason = invoice.StatusVOID, issued.Add(time.Hour), "no-show"
		}
		if w.system {
			by = invoice.IssuedBySYSTEM
		}
		return []any{invBase + int64(k), issued, issued, fmt.Sprintf("B-%08d", k), apptBase + int64(i), w.patient, w.doctor,
			w.price, string(status), string(by), w.start, issued, paidAt, voidedAt, reason}
	}); err != nil {
		return time.Time{}, "", err
	}
	if err := copyRows(ctx, db, feedback.Table, []string{"id", feedback.FieldCreatedAt, feedback.FieldUpdatedAt,
		feedback.FieldAppointmentID, feedback.FieldDoctorID, feedback.FieldPatientID, feedback.FieldStars, feedback.FieldComment},
		len(fb), func(k int) []any {
			i := fb[k]
			w := rows[i]
			at := w.start.Add(24 * time.Hour)
			return []any{fbBase + int64(k), at, at, apptBase + int64(i), w.doctor, w.patient, w.stars, ""}
		}); err != nil {
		return time.Time{}, "", err
	}
	for _, t := range []string{slot.Table, appointment.Table, invoice.Table, feedback.Table} {
		if _, err := db.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence($1, 'id'), (SELECT max(id) FROM `+pq.QuoteIdentifier(t)+`))`, t); err != nil {
			return time.Time{}, "", err
		}
	}
	return first, fmt.Sprintf("%d completed, %d invoices, %d ratings", completed, invoices, ratings), nil
}

// copyRows streams n rows into table with one COPY in one transaction.
func copyRows(ctx context.Context, db *sql.DB, table string, columns []string, n int, row func(int) []any) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	stmt, err := tx.PrepareContext(ctx, workload.CopyFrom(table, columns...))
	if err != nil {
		return fmt.Errorf("prepare COPY %s: %w", table, err)
	}
	for i := 0; i < n; i++ {
		if _, err := stmt.ExecContext(ctx, row(i)...); err != nil {
			return fmt.Errorf("COPY %s row %d: %w", table, i, err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return fmt.Errorf("flush COPY %s: %w", table, err)
	}
	if err := stmt.Close(); err != nil {
		return err
	}
	return tx.Commit()
}

// ids reads pairs of integers (an id and one more column).
func ids(ctx context.Context, db *sql.DB, q string) ([][2]int64, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]int64
	for rows.Next() {
		var p [2]int64
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
