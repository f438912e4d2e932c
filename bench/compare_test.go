package bench

import (
	"bufio"
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/lib/pq"

	"github.com/healthmed/healthmed/bench/serverproc"
	"github.com/healthmed/healthmed/bench/workload"
	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/internal/app"
	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/reaction"
)

// compareRates are the offered rates of the side-by-side runs.
var compareRates = []int{100, 300}

// PostGraphile's form of the search: compare/search.sql.
const postgraphileSearchOp = `query($lat: Float!, $lng: Float!, $km: Float!, $s: String!, $n: Int!) {
  searchDoctors(lat: $lat, lng: $lng, km: $km, spec: $s, n: $n) {
    nodes { id name specialty priceCents rating distanceKm nextSlotId nextSlotStartsAt }
  }
}`

// TestSearchCompare answers the same search ("one specialty within 10 km
// of São Paulo, first 20, with distance and next free slot", 200,000
// doctors) three ways on one database, one after the other: through
// healthmed; as raw SQL, pgbench running healthmed's own statements
// prepared; and through PostGraphile v4 with the search as a SQL function
// (compare/search.sql). For each: closed-loop throughput at 4 clients
// with the CPU per request (the server's process and PostgreSQL's
// backends, from /proc), then latency percentiles at fixed offered rates
// (from each request's scheduled start). It runs when
// HEALTHMED_BENCH_COMPARE is set (`make bench-compare`, which installs
// PostGraphile from compare/package-lock.json first).
func TestSearchCompare(t *testing.T) {
	if os.Getenv("HEALTHMED_BENCH_COMPARE") == "" {
		t.Skip("set HEALTHMED_BENCH_COMPARE=1 (make bench-compare) to run the side-by-side search benchmark")
	}
	base := os.Getenv("HEALTHMED_TEST_DATABASE_URL")
	if base == "" {
		t.Skip("HEALTHMED_TEST_DATABASE_URL not set")
	}
	postgraphile, err := filepath.Abs(filepath.Join("compare", "node_modules", ".bin", "postgraphile"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(postgraphile); err != nil {
		t.Fatalf("PostGraphile is not installed: run `npm ci` in bench/compare (make bench-compare does): %v", err)
	}
	pgbench, err := exec.LookPath("pgbench")
	if err != nil {
		t.Fatalf("pgbench (PostgreSQL's client tools) is needed: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	const dbName = "hmsearchcompare"
	rig := startSearchRig(ctx, t, base, dbName, "127.0.0.1:18283")
	fn, err := os.ReadFile(filepath.Join("compare", "search.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rig.db.ExecContext(ctx, string(fn)); err != nil {
		t.Fatalf("compare/search.sql: %v", err)
	}

	script := filepath.Join(t.TempDir(), "search.sql")
	if err := os.WriteFile(script, []byte(healthmedStatements(ctx, t, rig)), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("pgbench script (healthmed's statements, its arguments written in):\n%s", mustRead(t, script))

	var rows []compareRow
	// healthmed
	{
		lc := newLoadClient("http://"+rig.addr+"/graphql", 2*time.Second)
		payload := body(workload.SearchNextFreeOp, workload.SearchVars())
		checkAnswer(t, lc, payload, `"cursor"`)
		rows = append(rows, measureHTTP(ctx, "healthmed", lc, payload, rig.meter()))
	}
	// PostGraphile v4
	{
		addr := "127.0.0.1:18585"
		pg := exec.Command(postgraphile, "-c", rig.url, "-s", "compare", "-n", "127.0.0.1", "-p", "18585",
			"--disable-query-log", "-b")
		logf, err := os.Create(filepath.Join(rig.dir, "postgraphile.log"))
		if err != nil {
			t.Fatal(err)
		}
		defer logf.Close()
		pg.Stdout, pg.Stderr = logf, logf
		serverproc.DieWithParent(pg)
		if err := pg.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = pg.Process.Kill(); _ = pg.Wait() }()
		lc := newLoadClient("http://"+addr+"/graphql", 2*time.Second)
		payload := body(postgraphileSearchOp, map[string]any{
			"lat": workload.SaoPauloLat, "lng": workload.SaoPauloLng, "km": 10.0, "s": "Cardiology", "n": 20})
		deadline := time.Now().Add(60 * time.Second)
		for {
			raw, err := lc.post(ctx, payload)
			if err == nil && strings.Count(string(raw), `"nextSlotStartsAt"`) == 20 {
				break
			}
			if time.Now().After(deadline) {
				b, _ := os.ReadFile(logf.Name())
				t.Fatalf("PostGraphile does not answer the search: %v %s\n%s", err, raw, serverproc.TailLines(b, 20))
			}
			serverproc.Sleep(ctx, 500*time.Millisecond)
		}
		m := &meter{server: pg.Process.Pid, db: rig.db, dbName: dbName}
		rows = append(rows, measureHTTP(ctx, "PostGraphile v4", lc, payload, m))
	}
	// Raw SQL: pgbench with healthmed's statements, prepared.
	rows = append(rows, measurePgbench(ctx, t, pgbench, rig, dbName, script))

	header := fmt.Sprintf("%-22s %10s %24s", "", "peak req/s", "CPU µs/req (app + PG)")
	for _, r := range compareRates {
		header += fmt.Sprintf(" %28s", fmt.Sprintf("at %d/s: p50/p95/p99 ms", r))
	}
	lines := []string{header}
	for _, r := range rows {
		line := fmt.Sprintf("%-22s %10.0f %24s", r.name, r.peak,
			fmt.Sprintf("%d + %d = %d", r.appCPU, r.pgCPU, r.appCPU+r.pgCPU))
		for _, l := range r.rated {
			cell := fmt.Sprintf("%.1f / %.1f / %.1f", ms(l.p50), ms(l.p95), ms(l.p99))
			if l.ok < l.offered {
				cell += fmt.Sprintf(" (%d%% ok)", 100*l.ok/max(l.offered, 1))
			}
			line += fmt.Sprintf(" %28s", cell)
		}
		lines = append(lines, line)
	}
	t.Logf("the same search three ways, 200,000 doctors, pages of 20 with distance and next free slot:\n%s",
		strings.Join(lines, "\n"))
	hm, raw, pgl := rows[0], rows[2], rows[1]
	last := len(compareRates) - 1
	t.Logf("healthmed p99 at %d/s is %.2f× the raw SQL's; its peak is %.1f× PostGraphile's",
		compareRates[last], float64(hm.rated[last].p99)/float64(max(raw.rated[last].p99, 1)), hm.peak/max(pgl.peak, 1))
}

// compareRow is one system's figures.
type compareRow struct {
	name          string
	peak          float64 // requests/s, closed loop, 4 clients
	appCPU, pgCPU int64   // µs per request
	rated         []loadResult
}

func measureHTTP(ctx context.Context, name string, lc *loadClient, payload []byte, m *meter) compareRow {
	row := compareRow{name: name}
	warmPool(ctx, lc, payload)
	before := m.read(ctx)
	n, elapsed := closedLoop(ctx, lc, payload, 4, 6*time.Second)
	after := m.read(ctx)
	row.peak = float64(n) / elapsed.Seconds()
	row.appCPU, row.pgCPU = perOp(after.server-before.server, n), perOp(after.pgTotal(before), n)
	for _, rate := range compareRates {
		row.rated = append(row.rated, openLoop(ctx, lc, payload, rate, 5*time.Second))
	}
	return row
}

func checkAnswer(t *testing.T, lc *loadClient, payload []byte, per string) {
	t.Helper()
	raw, err := lc.post(context.Background(), payload)
	if err != nil || strings.Contains(string(raw), `"errors"`) || strings.Count(string(raw), per) != 20 {
		t.Fatalf("the measured search does not answer a full page: %v %s", err, raw)
	}
}

// healthmedStatements records the statements healthmed sends for the
// search (an app of the test's own, on the benchmark's database, whose Ent
// driver keeps a copy of each) and writes them as a pgbench script, each
// argument written in as a literal.
func healthmedStatements(ctx context.Context, t *testing.T, rig *searchRig) string {
	t.Helper()
	env := apptest.New(t, apptest.Unthrottled())
	rec := &recordingDriver{Driver: entsql.OpenDB(dialect.Postgres, rig.db)}
	a, err := app.Build(ctx, env.Config, slog.New(slog.NewTextHandler(io.Discard, nil)), rig.db,
		ent.NewClient(ent.Driver(rec), ent.Reactions(&reaction.Deps{})))
	if err != nil {
		t.Fatalf("build app: %v", err)
	}
	graphql(t, a.Handler, workload.SearchNextFreeOp, workload.SearchVars())
	var script strings.Builder
	for _, q := range rec.all() {
		if !strings.Contains(q.SQL, `"doctors"`) && !strings.Contains(q.SQL, `"slots"`) {
			continue
		}
		script.WriteString(withLiterals(t, q) + ";\n")
	}
	if n := strings.Count(script.String(), ";\n"); n == 0 {
		t.Fatalf("recorded no search statement: %+v", rec.all())
	}
	return script.String()
}

var placeholder = regexp.MustCompile(`\$(\d+)`)

// withLiterals writes q's arguments into its text.
func withLiterals(t *testing.T, q recordedQuery) string {
	t.Helper()
	return placeholder.ReplaceAllStringFunc(q.SQL, func(p string) string {
		i, _ := strconv.Atoi(p[1:])
		v := q.Args[i-1]
		if dv, ok := v.(driver.Valuer); ok {
			var err error
			if v, err = dv.Value(); err != nil {
				t.Fatal(err)
			}
		}
		switch x := v.(type) {
		case string:
			return pq.QuoteLiteral(x)
		case []byte:
			return pq.QuoteLiteral(string(x))
		case float64:
			return strconv.FormatFloat(x, 'g', -1, 64)
		case int:
			return strconv.Itoa(x)
		case int64:
			return strconv.FormatInt(x, 10)
		case time.Time:
			return pq.QuoteLiteral(x.Format(time.RFC3339Nano)) + "::timestamptz"
		}
		// Ent's enum types are strings by another name.
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.String {
			return pq.QuoteLiteral(rv.String())
		}
		t.Fatalf("argument %d of %s: %T", i, q.SQL, v)
		return ""
	})
}

// measurePgbench runs the script with pgbench -M prepared: 4 clients as
// fast as they go for the CPU per request and the peak, then each offered
// rate (-R, latency from the scheduled start: pgbench's schedule lag plus
// the transaction's time), from pgbench's per-transaction log.
func measurePgbench(ctx context.Context, t *testing.T, pgbench string, rig *searchRig, dbName, script string) compareRow {
	t.Helper()
	row := compareRow{name: "raw SQL (pgbench)"}
	run := func(d time.Duration, args ...string) (string, *exec.Cmd) {
		dir := t.TempDir()
		cmd := exec.CommandContext(ctx, pgbench, append([]string{"-n", "-M", "prepared", "-f", script,
			"-T", strconv.Itoa(int(d.Seconds())), "-l", "--log-prefix", filepath.Join(dir, "tx")}, args...)...)
		cmd.Args = append(cmd.Args, rig.url)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { _, _ = io.Copy(io.Discard, out) }()
		return dir, cmd
	}
	// Closed loop: the backends' CPU between 1.5 s and 6.5 s of an 8 s
	// run, and the transactions that ended in that window.
	m := &meter{db: rig.db, dbName: dbName}
	dir, cmd := run(8*time.Second, "-c", "4", "-j", "2")
	serverproc.Sleep(ctx, 1500*time.Millisecond)
	before, from := m.read(ctx), time.Now()
	serverproc.Sleep(ctx, 5*time.Second)
	after, to := m.read(ctx), time.Now()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("pgbench: %v", err)
	}
	txs := pgbenchLog(t, dir)
	n := 0
	for _, x := range txs {
		if !x.end.Before(from) && x.end.Before(to) {
			n++
		}
	}
	row.peak = float64(n) / to.Sub(from).Seconds()
	row.pgCPU = perOp(after.pgTotal(before), n)
	for _, rate := range compareRates {
		// Each run opens its connections, whose backends load PostGIS on
		// their first statement: the first second is a warm-up, left out.
		warm := time.Now().Add(time.Second)
		dir, cmd := run(6*time.Second, "-c", "16", "-j", "2", "-R", strconv.Itoa(rate))
		if err := cmd.Wait(); err != nil {
			t.Fatalf("pgbench -R %d: %v", rate, err)
		}
		var lat []time.Duration
		for _, x := range pgbenchLog(t, dir) {
			if x.end.After(warm) {
				lat = append(lat, x.latency)
			}
		}
		slices.Sort(lat)
		row.rated = append(row.rated, loadResult{offered: rate * 5, ok: len(lat),
			goodput: float64(len(lat)) / 5, p50: percentile(lat, 50), p95: percentile(lat, 95), p99: percentile(lat, 99)})
	}
	return row
}

type pgbenchTx struct {
	end     time.Time
	latency time.Duration
}

// pgbenchLog reads pgbench's per-transaction logs in dir: client, number,
// time (µs), script, epoch seconds, µs, and with -R the schedule lag (µs).
func pgbenchLog(t *testing.T, dir string) []pgbenchTx {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "tx*"))
	var out []pgbenchTx
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 6 || fs[2] == "skipped" || fs[2] == "failed" {
				continue
			}
			us, _ := strconv.ParseInt(fs[2], 10, 64)
			sec, _ := strconv.ParseInt(fs[4], 10, 64)
			usec, _ := strconv.ParseInt(fs[5], 10, 64)
			lag := int64(0)
			if len(fs) >= 7 {
				lag, _ = strconv.ParseInt(fs[6], 10, 64)
			}
			out = append(out, pgbenchTx{end: time.Unix(sec, usec*1000), latency: time.Duration(us+lag) * time.Microsecond})
		}
		fh.Close()
	}
	if len(out) == 0 {
		t.Fatalf("pgbench logged no transaction in %s", dir)
	}
	return out
}

func mustRead(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
