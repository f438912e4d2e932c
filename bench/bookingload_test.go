package bench

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/healthmed/healthmed/bench/serverproc"
	"github.com/healthmed/healthmed/bench/workload"
	"github.com/healthmed/healthmed/internal/auth"
)

const (
	// loadPatients book at once on distinct slots, closed loop: each
	// books its next slot when the last booking is answered.
	loadPatients = 200
	// loadDoctorsBooked is the number of doctors whose agendas they book.
	// Step k of patient p books doctor (p+k) mod loadDoctorsBooked at
	// half hour k: every slot is booked exactly once, no patient's
	// appointments overlap, and at any moment several patients book
	// different slots of the same doctor.
	loadDoctorsBooked = 200
	// loadSteps is how many half hours each doctor offers.
	loadSteps = 150
	// raceBookers fight for one slot in each of raceTrials trials.
	raceBookers = 1000
	raceTrials  = 20
)

// bookingProfilePort is the booking server's operators' port when the
// run is profiled (HEALTHMED_BENCH_PROFILE).
const bookingProfilePort = "18293"

// TestBookingLoad measures booking against a `healthmed serve` process
// of its own: bookings per second on distinct slots with 200 patients
// booking at once, their latency percentiles, server and PostgreSQL CPU
// per booking (from /proc); then the race of 1,000 patients for one
// slot, 20 times, each of which must have exactly one winner. It runs
// only when HEALTHMED_BENCH_LOAD is set (`make bench` sets it).
func TestBookingLoad(t *testing.T) {
	if os.Getenv("HEALTHMED_BENCH_LOAD") == "" {
		t.Skip("set HEALTHMED_BENCH_LOAD=1 (make bench) to run the booking load measurement")
	}
	base := os.Getenv("HEALTHMED_TEST_DATABASE_URL")
	if base == "" {
		t.Skip("HEALTHMED_TEST_DATABASE_URL not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	admin, err := serverproc.ReplaceDB(base, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	dbURL, drop, err := serverproc.FreshDatabase(ctx, admin, "hmbookload")
	if err != nil {
		t.Fatal(err)
	}
	defer drop()
	dir := t.TempDir()
	// HEALTHMED_BENCH_SERVER names a server binary built elsewhere, to
	// compare two versions under the same conditions.
	bin := os.Getenv("HEALTHMED_BENCH_SERVER")
	if bin == "" {
		bin = filepath.Join(dir, "healthmed")
		if err := serverproc.Build(ctx, bin); err != nil {
			t.Fatal(err)
		}
	}
	migrate := exec.CommandContext(ctx, bin, "migrate")
	migrate.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "HEALTHMED_DEV=true", "HEALTHMED_DATA_DIR="+dir)
	if out, err := migrate.CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, serverproc.TailLines(out, 20))
	}
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, _, err := workload.SeedDoctors(ctx, db, loadDoctorsBooked, 2); err != nil {
		t.Fatalf("seed doctors: %v", err)
	}
	patients, slotAt, err := seedBooking(ctx, db)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}

	key, err := serverproc.SigningKey()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:18283"
	tokens, err := patientTokens(key, "http://"+addr, patients)
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(),
		"DATABASE_URL="+dbURL,
		"HEALTHMED_DEV=false",
		"HEALTHMED_SIGNING_KEY="+key,
		"HEALTHMED_RECORD_KEK="+base64.StdEncoding.EncodeToString(randomKey(32)),
		"HEALTHMED_LINK_SECRET="+base64.StdEncoding.EncodeToString(randomKey(33)),
		"HEALTHMED_PUBLIC_URL=http://"+addr,
		"HEALTHMED_DATA_DIR="+dir,
		metricsSetting(bookingProfilePort),
		"HEALTHMED_NOTIFY_WORKER=false",
		"HEALTHMED_BOOKING_PER_MINUTE=0",
		// Every patient here waits for their answer: the queue holds
		// them all (the race's 1,000 too) rather than refusing some.
		"HEALTHMED_MAX_QUEUED=1000",
		"HEALTHMED_QUEUE_WAIT=30s",
	)
	r, err := serverproc.Start(ctx, bin, env, "booking", addr, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop("")
	if err := r.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	m := &meter{server: r.Cmd.Process.Pid, db: db, dbName: "hmbookload"}
	c := newClient("http://"+addr, raceBookers)
	defer c.close()

	// Distinct slots: each patient walks its own diagonal of the agendas.
	payload := func(p, k int) []byte {
		return body(workload.BookOp, map[string]any{"slot": strconv.Itoa(slotAt[k][(p+k)%loadDoctorsBooked])})
	}
	steps := make([]int, loadPatients)
	run := func(d time.Duration) (n int, lat []time.Duration, fail error) {
		var (
			mu    sync.Mutex
			wg    sync.WaitGroup
			count atomic.Int64
			once  sync.Once
		)
		deadline := time.Now().Add(d)
		for p := range loadPatients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []time.Duration
				for time.Now().Before(deadline) && steps[p] < loadSteps-raceTrials {
					start := time.Now()
					raw, err := c.post(tokens[p], payload(p, steps[p]))
					took := time.Since(start)
					steps[p]++
					if outcome, err := bookingOutcome(raw, err); outcome != "won" {
						once.Do(func() { fail = fmt.Errorf("patient %d, step %d: %v %s", p, steps[p]-1, err, raw) })
						continue
					}
					count.Add(1)
					mine = append(mine, took)
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		slices.Sort(lat)
		return int(count.Load()), lat, fail
	}
	if _, _, err := run(2 * time.Second); err != nil { // warm the pool and the caches
		t.Fatal(err)
	}
	scansBefore, err := tableScans(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	before := m.read(ctx)
	waits := sampleWaits(ctx, db, "hmbookload")
	start := time.Now()
	profiled := profileDuring(ctx, t, bookingProfilePort, "booking", 8*time.Second)
	n, lat, err := run(8 * time.Second)
	elapsed := time.Since(start)
	after := m.read(ctx)
	profiled()
	t.Logf("what PostgreSQL's busy backends were doing (share of samples): %s", waits())
	if err != nil {
		t.Fatal(err)
	}
	srv, pg := after.server-before.server, after.pgTotal(before)
	// The statistics reach the shared counters within a second or so.
	time.Sleep(1500 * time.Millisecond)
	scansAfter, err := tableScans(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	perBooking := func(table string, i int) float64 {
		return float64(scansAfter[table][i]-scansBefore[table][i]) / float64(max(n, 1))
	}
	t.Logf("reads of the events table per booking (the live hub's and the numbering trigger's): %.2f index scans, %.2f whole-table scans",
		perBooking("events", 0), perBooking("events", 1))
	// The booking's transaction runs generic plans (planned once per
	// connection, not for each booking's values): none of them may read
	// a whole table.
	for _, table := range bookingTables {
		if whole := scansAfter[table][1] - scansBefore[table][1]; whole > 0 {
			t.Errorf("%d whole-table reads of %s during %d bookings (%.2f index scans per booking)",
				whole, table, n, perBooking(table, 0))
		}
	}
	t.Logf("distinct slots, %d patients booking at once: %.0f bookings/s; p50 %.1f ms, p95 %.1f ms, p99 %.1f ms; "+
		"CPU per booking: server %d µs + PostgreSQL %d µs = %d µs (%d bookings in %s)",
		loadPatients, float64(n)/elapsed.Seconds(), ms(percentile(lat, 50)), ms(percentile(lat, 95)), ms(percentile(lat, 99)),
		perOp(srv, n), perOp(pg, n), perOp(srv+pg, n), n, elapsed.Round(time.Millisecond))

	// The race: raceBookers patients, each on a connection of its own,
	// released at once on one slot; exactly one wins, every time.
	var worst time.Duration
	for trial := range raceTrials {
		slotID := slotAt[loadSteps-raceTrials+trial][0]
		p := body(workload.BookOp, map[string]any{"slot": strconv.Itoa(slotID)})
		var (
			wg          sync.WaitGroup
			won, taken  atomic.Int64
			other       atomic.Int64
			firstOther  sync.Once
			otherAnswer string
		)
		gate := make(chan struct{})
		start := time.Now()
		for i := range raceBookers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				raw, err := c.post(tokens[i], p)
				switch outcome, err := bookingOutcome(raw, err); outcome {
				case "won":
					won.Add(1)
				case "taken":
					taken.Add(1)
				default:
					other.Add(1)
					firstOther.Do(func() { otherAnswer = err.Error() })
				}
			}()
		}
		close(gate)
		wg.Wait()
		took := time.Since(start)
		worst = max(worst, took)
		var active int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM appointments
			WHERE slot_id = $1 AND status IN ('REQUESTED', 'ACCEPTED')`, slotID).Scan(&active); err != nil {
			t.Fatal(err)
		}
		if won.Load() != 1 || taken.Load() != raceBookers-1 || active != 1 {
			t.Fatalf("race %d: %d won, %d SLOT_TAKEN, %d other (first: %s); %d active appointments on the slot",
				trial+1, won.Load(), taken.Load(), other.Load(), otherAnswer, active)
		}
	}
	t.Logf("race: %d patients at once for one slot, %d times: exactly one winner and %d SLOT_TAKEN each time (slowest race %s)",
		raceBookers, raceTrials, raceBookers-1, worst.Round(time.Millisecond))
}

// seedBooking adds raceBookers patients, each with an insurance plan (so
// every booking writes its coverage check too), and loadSteps half-hour
// slots per doctor from tomorrow. It returns the patients' ids and the
// slots' ids by half hour and doctor.
func seedBooking(ctx context.Context, db *sql.DB) ([]int, [][]int, error) {
	if _, err := db.ExecContext(ctx, `
INSERT INTO patients (created_at, updated_at, name, email, cpf, password_hash)
SELECT now(), now(), 'Bench patient ' || i, 'bench' || i || '@patients.example', lpad(i::text, 11, '0'), '!unusable'
FROM generate_series(1, $1) i`, raceBookers); err != nil {
		return nil, nil, err
	}
	if _, err := db.ExecContext(ctx, `
INSERT INTO insurance_plans (created_at, updated_at, operator, card_sealed, card_last4, patient_id)
SELECT now(), now(), 'Bench Saúde', '\x00'::bytea, '0000', id FROM patients`); err != nil {
		return nil, nil, err
	}
	// The search's seed leaves one doctor in fifty to be verified, whose
	// slots nobody may book; here every agenda is bookable.
	if _, err := db.ExecContext(ctx, `UPDATE doctors SET verification = 'VERIFIED'`); err != nil {
		return nil, nil, err
	}
	if _, err := db.ExecContext(ctx, `
INSERT INTO slots (created_at, updated_at, doctor_id, starts_at, ends_at)
SELECT now(), now(), d.id, date_trunc('day', now()) + interval '1 day' + k * interval '30 minutes',
       date_trunc('day', now()) + interval '1 day' + (k + 1) * interval '30 minutes'
FROM doctors d, generate_series(0, $1 - 1) k`, loadSteps); err != nil {
		return nil, nil, err
	}
	// Vacuumed as the seeded doctors are (workload.SeedDoctors), so no
	// autovacuum of the new rows runs during the measurement.
	if _, err := db.ExecContext(ctx, `VACUUM (ANALYZE) patients, insurance_plans, slots`); err != nil {
		return nil, nil, err
	}
	var patients []int
	rows, err := db.QueryContext(ctx, `SELECT id FROM patients ORDER BY id`)
	if err != nil {
		return nil, nil, err
	}
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			return nil, nil, err
		}
		patients = append(patients, id)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	slotAt := make([][]int, loadSteps)
	rows, err = db.QueryContext(ctx, `SELECT s.id, dense_rank() OVER (ORDER BY s.starts_at) - 1,
		dense_rank() OVER (ORDER BY s.doctor_id) - 1 FROM slots s`)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, k, d int
		if err := rows.Scan(&id, &k, &d); err != nil {
			return nil, nil, err
		}
		if slotAt[k] == nil {
			slotAt[k] = make([]int, loadDoctorsBooked)
		}
		slotAt[k][d] = id
	}
	return patients, slotAt, rows.Err()
}

// patientTokens signs one access token per patient with the server's
// key, each for a sign-in of its own.
func patientTokens(keyPEM, issuerURL string, patients []int) ([]string, error) {
	keys, err := auth.ParseKeySetPEM(keyPEM)
	if err != nil {
		return nil, err
	}
	iss := auth.NewIssuer(auth.IssuerConfig{IssuerURL: issuerURL, Audience: "healthmed", TTL: time.Hour}, keys)
	tokens := make([]string, len(patients))
	for i, id := range patients {
		if tokens[i], _, err = iss.IssueSession(strconv.Itoa(id), "patient", fmt.Sprintf("bench-sign-in-%d", id)); err != nil {
			return nil, err
		}
	}
	return tokens, nil
}

// sampleWaits samples, every 10 ms until the returned function is
// called, what the database's active backends are waiting on; the
// function summarises the samples, busiest first.
func sampleWaits(ctx context.Context, db *sql.DB, dbName string) func() string {
	ctx, cancel := context.WithCancel(ctx)
	counts := map[string]int{}
	total := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			rows, err := db.QueryContext(ctx, `SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity
				WHERE datname = $1 AND state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()`, dbName)
			if err != nil {
				continue
			}
			for rows.Next() {
				var w string
				if rows.Scan(&w) == nil {
					counts[w]++
					total++
				}
			}
			rows.Close()
		}
	}()
	return func() string {
		cancel()
		<-done
		type kv struct {
			k string
			n int
		}
		var all []kv
		for k, n := range counts {
			all = append(all, kv{k, n})
		}
		slices.SortFunc(all, func(a, b kv) int { return b.n - a.n })
		var out []string
		for i, e := range all {
			if i == 8 {
				break
			}
			out = append(out, fmt.Sprintf("%s %.0f%%", e.k, 100*float64(e.n)/float64(max(total, 1))))
		}
		return strings.Join(out, ", ")
	}
}

// bookingTables are the tables a booking's statements and triggers read
// or write, events included.
var bookingTables = []string{"events", "doctors", "slots", "appointments", "insurance_plans",
	"coverage_checks", "notifications", "waitlist_offers"}

// tableScans reads the index scans and the whole-table scans of the
// booking's tables so far.
func tableScans(ctx context.Context, db *sql.DB) (map[string][2]int64, error) {
	rows, err := db.QueryContext(ctx, `SELECT relname, coalesce(idx_scan, 0), seq_scan FROM pg_stat_user_tables
		WHERE relname = ANY($1)`, pq.Array(bookingTables))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	scans := map[string][2]int64{}
	for rows.Next() {
		var (
			name string
			s    [2]int64
		)
		if err := rows.Scan(&name, &s[0], &s[1]); err != nil {
			return nil, err
		}
		scans[name] = s
	}
	return scans, rows.Err()
}
