package main

// -mixed: the product's day, not one doctor's broadcast alone. Of the N
// sockets, -patients are signed-in patients on their own
// appointmentUpdated and the rest one doctor's screens on agendaUpdated;
// while they are open, patients search and book at fixed offered rates
// and doctors accept each booking, and the fan-out events of the default
// mode are sent in the middle of it all.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/lib/pq"

	"github.com/healthmed/healthmed/bench/serverproc"
	"github.com/healthmed/healthmed/bench/workload"
	"github.com/healthmed/healthmed/internal/auth"
)

type mixedOptions struct {
	on             bool
	patients       int
	searchRate     int
	bookRate       int
	duration       time.Duration
	doctors        int
	bookedDoctors  int
	acceptAfter    time.Duration
	patience       time.Duration
	targetTargeted time.Duration
}

func (m *mixedOptions) register(fs *flag.FlagSet) {
	fs.BoolVar(&m.on, "mixed", false, "patients search and book and doctors accept while the subscribers are open (see the package doc)")
	fs.IntVar(&m.patients, "patients", 0, "-mixed: sockets that are patients' own appointmentUpdated, among the N (default N/10)")
	fs.IntVar(&m.searchRate, "search-rate", 500, "-mixed: searches per second offered, open loop, both replicas alternately")
	fs.IntVar(&m.bookRate, "book-rate", 50, "-mixed: bookings per second offered, open loop, each on a slot of its own")
	fs.DurationVar(&m.duration, "duration", 30*time.Second, "-mixed: the load runs at least this long, and until the last fan-out event is delivered")
	fs.IntVar(&m.doctors, "doctors", 200_000, "-mixed: doctors seeded (the search benchmarks' distribution: 35% around São Paulo)")
	fs.IntVar(&m.bookedDoctors, "booked-doctors", 200, "-mixed: doctors within 10 km of São Paulo whose agendas are booked (at most -patients)")
	fs.DurationVar(&m.acceptAfter, "accept-after", 500*time.Millisecond, "-mixed: how long after a booking's answer its doctor accepts it")
	fs.DurationVar(&m.patience, "patience", 5*time.Second, "-mixed: how long a patient or doctor waits for an answer")
	fs.DurationVar(&m.targetTargeted, "target-targeted-p99", 25*time.Millisecond, "-mixed: target p99 from an acceptance to its patient's socket")
}

// defaults fills in what depends on N.
func (m *mixedOptions) defaults(n int) {
	if m.patients == 0 {
		m.patients = max(1, n/10)
	}
	m.bookedDoctors = min(m.bookedDoctors, m.patients)
}

func (m *mixedOptions) check(n int) error {
	switch {
	case m.patients < 1 || m.patients > n/2:
		return errors.New("-patients: at least 1, at most half of -n (the rest are the doctor's screens)")
	case m.searchRate < 0 || m.searchRate > 5000, m.bookRate < 0 || m.bookRate > 1000:
		return errors.New("-search-rate: 0 to 5000, -book-rate: 0 to 1000")
	case m.duration <= 0 || m.duration > time.Hour:
		return errors.New("-duration: positive, at most 1h")
	case m.doctors < 1000 || m.doctors > 2_000_000:
		return errors.New("-doctors: 1000 to 2,000,000")
	case m.bookedDoctors < 1:
		return errors.New("-booked-doctors: at least 1")
	case m.acceptAfter < 0 || m.patience <= 0:
		return errors.New("-accept-after: not negative; -patience: positive")
	}
	return nil
}

// steps is how many half hours each booked doctor offers: one booking
// per patient to warm up, then the load's, with room to spare.
func (m *mixedOptions) steps(o options) int {
	span := max(m.duration, time.Duration(o.events+1)*(o.gap+2*time.Second)) + 30*time.Second
	bookings := m.patients + int(float64(m.bookRate)*span.Seconds())
	return (bookings + m.bookedDoctors - 1) / m.bookedDoctors
}

// gridSlot is a slot to book and the token of its doctor.
type gridSlot struct {
	id          string
	doctorToken string
}

// mixedSeed is what the seed made for the load. Booking g is slot g of
// the grid (half hour g / doctors, doctor g % doctors) by patient
// g % patients: the bookings of one half hour are by different patients
// (there are at least as many patients as booked doctors), so no
// patient's appointments overlap, and the first len(patients) bookings
// give every patient one.
type mixedSeed struct {
	describe      string
	patientTokens []string
	grid          []gridSlot
	booked        int // doctors whose agendas are booked
}

func (s *mixedSeed) patientToken(g int) string { return s.patientTokens[g%len(s.patientTokens)] }

func (s *mixedSeed) bookPayload(g int, idempotencyKey string) []byte {
	vars := map[string]any{"slot": s.grid[g].id}
	query := workload.BookOp
	if idempotencyKey != "" {
		query = `mutation($slot: ID!, $key: String) { bookAppointment(slotId: $slot, idempotencyKey: $key) { id status startsAt } }`
		vars["key"] = idempotencyKey
	}
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return b
}

// patientEmails marks the seeded patients, to count their appointments
// apart from the demo data's.
const patientEmails = "subload%@patients.example"

// seedMixed adds, to the demo data, the doctors the searches look
// through with their free slots, the patients with an insurance plan
// each (so every booking writes its coverage check too), and the grid of
// slots the load books; it signs every patient's and booked doctor's
// token with the replicas' key.
func seedMixed(ctx context.Context, db *sql.DB, o options, keyPEM string) (*mixedSeed, error) {
	m := o.mixed
	copyTime, analyzeTime, err := workload.SeedDoctors(ctx, db, m.doctors, 1)
	if err != nil {
		return nil, fmt.Errorf("seed doctors: %w", err)
	}
	free, err := workload.SeedSlots(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("seed slots: %w", err)
	}
	if _, err := db.ExecContext(ctx, `
INSERT INTO patients (created_at, updated_at, name, email, cpf, password_hash)
SELECT now(), now(), 'Subload patient ' || i, 'subload' || i || '@patients.example', '9' || lpad(i::text, 10, '0'), '!unusable'
FROM generate_series(1, $1) i`, m.patients); err != nil {
		return nil, fmt.Errorf("seed patients: %w", err)
	}
	if _, err := db.ExecContext(ctx, `
INSERT INTO insurance_plans (created_at, updated_at, operator, card_sealed, card_last4, patient_id)
SELECT now(), now(), 'Bench Saúde', '\x00'::bytea, '0000', id FROM patients WHERE email LIKE $1`, patientEmails); err != nil {
		return nil, fmt.Errorf("seed insurance plans: %w", err)
	}
	patients, err := ids(ctx, db, `SELECT id FROM patients WHERE email LIKE $1 ORDER BY id`, patientEmails)
	if err != nil {
		return nil, err
	}
	doctors, err := ids(ctx, db, `SELECT id FROM doctors WHERE email LIKE 'bench%@doctors.example' AND verification = 'VERIFIED'
		AND ST_DWithin(location, ST_GeogFromText('SRID=4326;POINT(-46.6333 -23.5505)'), 10000) ORDER BY id LIMIT $1`, m.bookedDoctors)
	if err != nil {
		return nil, err
	}
	if len(doctors) == 0 {
		return nil, errors.New("no seeded doctor within 10 km of São Paulo: raise -doctors")
	}
	// From the day after tomorrow: tomorrow's slots are the searches'.
	base := time.Now().UTC().Truncate(24 * time.Hour).Add(48 * time.Hour)
	steps := m.steps(o)
	if _, err := db.ExecContext(ctx, `
INSERT INTO slots (created_at, updated_at, doctor_id, starts_at, ends_at)
SELECT now(), now(), d, $2::timestamptz + k * interval '30 minutes', $2::timestamptz + (k + 1) * interval '30 minutes'
FROM unnest($1::bigint[]) d, generate_series(0, $3 - 1) k`, pq.Array(doctors), base, steps); err != nil {
		return nil, fmt.Errorf("seed the slots to book: %w", err)
	}
	if _, err := db.ExecContext(ctx, `ANALYZE patients; ANALYZE insurance_plans; ANALYZE slots`); err != nil {
		return nil, err
	}

	keys, err := auth.ParseKeySetPEM(keyPEM)
	if err != nil {
		return nil, err
	}
	iss := auth.NewIssuer(auth.IssuerConfig{IssuerURL: "http://" + o.addrs[0], Audience: "healthmed", TTL: o.timeout + 10*time.Minute}, keys)
	sign := func(id int, role string) (string, error) {
		tok, _, err := iss.IssueSession(strconv.Itoa(id), role, fmt.Sprintf("subload-%s-%d", role, id))
		return tok, err
	}
	s := &mixedSeed{booked: len(doctors)}
	for _, id := range patients {
		tok, err := sign(id, auth.RolePatient)
		if err != nil {
			return nil, err
		}
		s.patientTokens = append(s.patientTokens, tok)
	}
	doctorTokens := map[int]string{}
	for _, id := range doctors {
		if doctorTokens[id], err = sign(id, auth.RoleDoctor); err != nil {
			return nil, err
		}
	}
	rows, err := db.QueryContext(ctx, `SELECT id, doctor_id FROM slots WHERE doctor_id = ANY($1) AND starts_at >= $2
		ORDER BY starts_at, doctor_id`, pq.Array(doctors), base)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, doc int
		if err := rows.Scan(&id, &doc); err != nil {
			return nil, err
		}
		s.grid = append(s.grid, gridSlot{id: strconv.Itoa(id), doctorToken: doctorTokens[doc]})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	s.describe = fmt.Sprintf("%s, 35%% of them around São Paulo; %d free slots tomorrow for those within 15 km of it; "+
		"%d patients with an insurance plan; %d doctors within 10 km with %d half-hour slots each to book",
		workload.DescribeSeed(m.doctors, copyTime, analyzeTime), free, len(patients), len(doctors), steps)
	return s, nil
}

func ids(ctx context.Context, db *sql.DB, query string, args ...any) ([]int, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// warmPatients has every patient book once, which proves their socket's
// subscription live when the booking's update reaches it: a subscription
// registered after an event was committed never gets that event, and the
// acceptances measured later must not be lost to that.
func warmPatients(ctx context.Context, o options, seed *mixedSeed, clients []*client, acked int) (int, error) {
	p := newPoster(o.mixed.patience)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	next := make(chan int)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for g := range next {
				code := "start"
				// A refusal under load is retried; the idempotency key
				// makes a retry of a booking that did go through
				// answer with that booking.
				for try := 0; code != "" && try < 20; try++ {
					if try > 0 && !serverproc.Sleep(ctx, 300*time.Millisecond) {
						return
					}
					_, code = p.post(ctx, o.addrs[(g+w)%2], seed.patientToken(g), seed.bookPayload(g, "subload-warm-"+strconv.Itoa(g)))
				}
				if code != "" {
					mu.Lock()
					firstErr = cmp(firstErr, fmt.Errorf("warm-up booking %d: %s", g, code))
					mu.Unlock()
				}
			}
		}()
	}
	for g := range seed.patientTokens {
		next <- g
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	deadline := time.Now().Add(o.warmTimeout)
	live := 0
	for {
		var err error
		if _, live, err = liveCounts(ctx, clients); err != nil || live >= acked || time.Now().After(deadline) {
			return live, err
		}
		if !serverproc.Sleep(ctx, 500*time.Millisecond) {
			return live, ctx.Err()
		}
	}
}

// cmp keeps the first error.
func cmp(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// liveCounts asks every client how many screens and patients' sockets
// have received an event so far.
func liveCounts(ctx context.Context, clients []*client) (screens, patients int, err error) {
	for _, c := range clients {
		if err := c.send(command{Cmd: "live"}); err != nil {
			return 0, 0, err
		}
		var r struct{ Live, Plive int }
		if err := c.receive(ctx, &r, 30*time.Second); err != nil {
			return 0, 0, fmt.Errorf("client %d: %w", c.idx, err)
		}
		screens += r.Live
		patients += r.Plive
	}
	return screens, patients, nil
}

// receipts gathers from the clients when each accepted appointment's
// patient read the news, until every acceptance in want has arrived or
// timeout passes.
func receipts(ctx context.Context, clients []*client, want map[string]acceptSent, timeout time.Duration) (map[string]receipt, error) {
	got := map[string]receipt{}
	deadline := time.Now().Add(timeout)
	for {
		for _, c := range clients {
			if err := c.send(command{Cmd: "accepted"}); err != nil {
				return got, err
			}
			var r struct{ Accepted map[string]receipt }
			if err := c.receive(ctx, &r, 30*time.Second); err != nil {
				return got, fmt.Errorf("client %d: %w", c.idx, err)
			}
			for id, rc := range r.Accepted {
				if _, seen := got[id]; !seen {
					got[id] = rc
				}
			}
		}
		missing := 0
		for id, s := range want {
			if _, ok := got[id]; s.OK && !ok {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			return got, nil
		}
		if !serverproc.Sleep(ctx, 200*time.Millisecond) {
			return got, ctx.Err()
		}
	}
}
