package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthmed/healthmed/bench/serverproc"
	"github.com/healthmed/healthmed/bench/workload"
)

// searchProfilePort is the search server's operators' port when the
// run is profiled (HEALTHMED_BENCH_PROFILE).
const searchProfilePort = "18292"

// loadDoctors is the table size the search's targets are stated for.
const loadDoctors = 200_000

// loadSearchCountOp is the search with totalCount, which counts up to
// search.MaxTotalCount matches.
var loadSearchCountOp = strings.Replace(workload.SearchOp, "pageInfo {", "totalCount pageInfo {", 1)

// TestSearchLoad measures the doctor search against a `healthmed serve`
// process of its own on 200,000 seeded doctors: server and PostgreSQL
// CPU per search (from /proc), latency percentiles at fixed offered
// rates, the rate at which p95 passes 50 ms, and goodput when twice the
// saturation rate is offered. It takes a few minutes, so it runs only
// when HEALTHMED_BENCH_LOAD is set (`make bench` sets it).
func TestSearchLoad(t *testing.T) {
	if os.Getenv("HEALTHMED_BENCH_LOAD") == "" {
		t.Skip("set HEALTHMED_BENCH_LOAD=1 (make bench) to run the search load measurement")
	}
	base := os.Getenv("HEALTHMED_TEST_DATABASE_URL")
	if base == "" {
		t.Skip("HEALTHMED_TEST_DATABASE_URL not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	rig := startSearchRig(ctx, t, base, "hmsearchload", "127.0.0.1:18282")
	m := rig.meter()
	lc := newLoadClient("http://"+rig.addr+"/graphql", 2*time.Second)
	plain, withSlot := body(workload.SearchOp, workload.SearchVars()), body(workload.SearchNextFreeOp, workload.SearchVars())
	for _, p := range [][]byte{plain, withSlot} {
		if raw, err := lc.post(ctx, p); err != nil || strings.Contains(string(raw), `"errors"`) ||
			strings.Count(string(raw), `"cursor"`) != 20 {
			t.Fatalf("the measured search does not answer a full page: %v %s", err, raw)
		}
	}

	// A new replica's first second, warmed only by its own start
	// (server.WarmUp) and the two answers checked above: what a rolling
	// update's new pod meets.
	cold := openLoop(ctx, lc, withSlot, 500, time.Second)
	t.Logf("a new replica's first second at 500/s: %s", cold)

	// CPU per search, closed loop: every answer is a search done. The
	// empty request first: what any request costs the server (HTTP, the
	// middleware, the executor) before it reads a row, the floor under
	// every figure after it.
	peak := 0.0
	for _, v := range []struct {
		name    string
		payload []byte
	}{
		{"empty request ({ __typename })", body("{ __typename }", nil)},
		{"search", plain}, {"search+totalCount", body(loadSearchCountOp, workload.SearchVars())}, {"search+nextFreeSlot", withSlot},
	} {
		warmPool(ctx, lc, v.payload)
		before := m.read(ctx)
		profiled := profileDuring(ctx, t, searchProfilePort, v.name, 6*time.Second)
		n, elapsed := closedLoop(ctx, lc, v.payload, 4, 6*time.Second)
		after := m.read(ctx)
		profiled()
		srv, pg := after.server-before.server, after.pgTotal(before)
		rate := float64(n) / elapsed.Seconds()
		// The rated runs below send the search with nextFreeSlot.
		peak = rate
		t.Logf("CPU per %s: server %d µs + PostgreSQL %d µs = %d µs (%d answers, %.0f/s at 4 clients)",
			v.name, perOp(srv, n), perOp(pg, n), perOp(srv+pg, n), n, rate)
	}

	// Latency at fixed offered rates, measured from each request's
	// scheduled start, so a slow answer also delays the ones queued
	// behind it in the figures.
	crossed := 0
	for _, rate := range []int{50, 100, 200, 300, 500, 700, 1000} {
		if crossed > 0 && rate > 500 {
			break
		}
		res := openLoop(ctx, lc, withSlot, rate, 5*time.Second)
		t.Logf("offered %4d/s: %s", rate, res)
		crossing := crossed == 0 && res.p95 > 50*time.Millisecond
		// 500/s is the target's rate: its seconds show whether one stall
		// or a queue made its p95.
		if rate == 500 || crossing {
			t.Logf("offered %4d/s: %s", rate, res.timeline())
		}
		if crossing {
			crossed = rate
		}
	}
	if crossed == 0 {
		t.Logf("p95 stayed under 50 ms up to 1000 searches/s offered")
	} else {
		t.Logf("p95 passes 50 ms at about %d searches/s offered (closed-loop peak %.0f/s)", crossed, peak)
	}

	// Twice the saturation rate: goodput is what is answered within the
	// client's patience (2 s), and refusals are immediate.
	over := int(2 * peak)
	before := m.read(ctx)
	res := openLoop(ctx, lc, withSlot, over, 10*time.Second)
	after := m.read(ctx)
	t.Logf("offered %d/s (2x the peak): %s", over, res)
	t.Logf("goodput %.0f/s = %.0f%% of the peak; CPU per answered search: server %d µs + PostgreSQL %d µs",
		res.goodput, 100*res.goodput/peak, perOp(after.server-before.server, res.ok),
		perOp(after.pgTotal(before), res.ok))
	started := 0
	for pid := range after.backends {
		if _, ok := before.backends[pid]; !ok {
			started++
		}
	}
	t.Logf("PostgreSQL backends: %d before the overload, %d after, %d started during it",
		len(before.backends), len(after.backends), started)
}

func randomKey(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func perOp(d time.Duration, n int) int64 {
	if n == 0 {
		return 0
	}
	return d.Microseconds() / int64(n)
}

// meter reads the CPU time of the server process and of PostgreSQL's
// backends for the benchmark's database.
type meter struct {
	server int
	db     *sql.DB
	dbName string
}

type cpuReading struct {
	server   time.Duration
	backends map[int]time.Duration
}

func (m *meter) read(ctx context.Context) cpuReading {
	var r cpuReading
	r.server, _ = serverproc.CPU(m.server)
	r.backends = serverproc.BackendCPU(ctx, m.db, m.dbName)
	return r
}

// pgTotal is the backends' CPU since before (serverproc.BackendCPUSince).
func (r cpuReading) pgTotal(before cpuReading) time.Duration {
	return serverproc.BackendCPUSince(before.backends, r.backends)
}

// loadClient posts prepared payloads with a patience of its own.
type loadClient struct {
	url     string
	http    *http.Client
	timeout time.Duration
}

func newLoadClient(url string, timeout time.Duration) *loadClient {
	tr := &http.Transport{MaxIdleConns: 4096, MaxIdleConnsPerHost: 4096, IdleConnTimeout: time.Minute}
	return &loadClient{url: url, http: &http.Client{Transport: tr}, timeout: timeout}
}

// post returns the body of a 200 answer; any other status is an error
// carrying the status.
func (c *loadClient) post(ctx context.Context, payload []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, strings.NewReader(string(payload)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return raw, statusError(res.StatusCode)
	}
	return raw, nil
}

type statusError int

func (s statusError) Error() string { return fmt.Sprintf("HTTP %d", int(s)) }

// poolWarmers is as many clients as the server's pool has connections
// (HEALTHMED_DB_MAX_CONNS' default), so every connection runs the
// measured statement before the measurement.
const poolWarmers = 20

// warmPool sends payload from poolWarmers clients for a second. Each
// connection of the server's pool prepares and plans a statement the
// first time it runs it: for the search about 5-10 ms of PostgreSQL's
// CPU, most of it planning against the doctors' indexes and PostGIS's
// statistics. Four clients warm only the four connections they keep
// busy, and the others then paid that in the first second of the first
// rate that needed them: 90-160 ms of p95 in that second at 500/s,
// 8-20 ms in the seconds after. A replica that has served for a minute
// has every connection warm; the measurement is of that replica.
func warmPool(ctx context.Context, c *loadClient, payload []byte) {
	closedLoop(ctx, c, payload, poolWarmers, time.Second)
}

// closedLoop runs clients that each send the next search when the last
// is answered, for d; it returns the searches answered and the time.
func closedLoop(ctx context.Context, c *loadClient, payload []byte, clients int, d time.Duration) (int, time.Duration) {
	var n atomic.Int64
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if raw, err := c.post(ctx, payload); err == nil && !strings.Contains(string(raw), `"errors"`) {
					n.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return int(n.Load()), time.Since(start)
}

// loadResult is one fixed-rate run.
type loadResult struct {
	offered, ok, refused, failed int
	goodput                      float64 // answered searches per second
	p50, p95, p99                time.Duration
	// bySecond splits the run by the second each request was due in.
	bySecond []secondResult
}

// secondResult is one second of a fixed-rate run.
type secondResult struct {
	lat     []time.Duration
	refused int
}

// timeline tells a stall (one bad second) from a sustained queue: the
// p95 of each second's answered requests and its refusals.
func (r loadResult) timeline() string {
	var b strings.Builder
	b.WriteString("by second due, p95 ms/refused:")
	for _, s := range r.bySecond {
		slices.Sort(s.lat)
		fmt.Fprintf(&b, " %.1f/%d", ms(percentile(s.lat, 95)), s.refused)
	}
	return b.String()
}

func (r loadResult) String() string {
	return fmt.Sprintf("p50 %.1f ms, p95 %.1f ms, p99 %.1f ms; %d sent, %d answered (%.0f/s), %d refused, %d failed or given up",
		ms(r.p50), ms(r.p95), ms(r.p99), r.offered, r.ok, r.goodput, r.refused, r.failed)
}

// openLoop sends searches at rate per second for d whatever the answers,
// each on a goroutine of its own. Latencies are those of the answered
// searches, from the moment each was due.
func openLoop(ctx context.Context, c *loadClient, payload []byte, rate int, d time.Duration) loadResult {
	total := int(float64(rate) * d.Seconds())
	interval := time.Second / time.Duration(rate)
	var (
		mu       sync.Mutex
		failed   atomic.Int64
		wg       sync.WaitGroup
		bySecond = make([]secondResult, int(math.Ceil(d.Seconds())))
	)
	start := time.Now()
	for i := range total {
		due := start.Add(time.Duration(i) * interval)
		if w := time.Until(due); w > 0 {
			time.Sleep(w)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			raw, err := c.post(ctx, payload)
			took := time.Since(due)
			sec := &bySecond[min(int(due.Sub(start)/time.Second), len(bySecond)-1)]
			switch {
			case err == nil && !strings.Contains(string(raw), `"errors"`):
				mu.Lock()
				sec.lat = append(sec.lat, took)
				mu.Unlock()
			case strings.Contains(string(raw), "RATE_LIMITED"):
				mu.Lock()
				sec.refused++
				mu.Unlock()
			default:
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	var lat []time.Duration
	refused := 0
	for _, sec := range bySecond {
		lat = append(lat, sec.lat...)
		refused += sec.refused
	}
	slices.Sort(lat)
	return loadResult{
		offered: total, ok: len(lat), refused: refused, failed: int(failed.Load()),
		goodput: float64(len(lat)) / d.Seconds(),
		p50:     percentile(lat, 50), p95: percentile(lat, 95), p99: percentile(lat, 99),
		bySecond: bySecond,
	}
}

// searchRig is a database of its own seeded with loadDoctors doctors and
// their slots, and a `healthmed serve` process on it.
type searchRig struct {
	url, dir, addr, name string
	db                   *sql.DB
	server               *serverproc.Replica
}

// meter reads the CPU of the rig's server and of its database's backends.
func (r *searchRig) meter() *meter {
	return &meter{server: r.server.Cmd.Process.Pid, db: r.db, dbName: r.name}
}

// startSearchRig creates, migrates and seeds the database name and
// starts the server on addr; everything is removed when the test ends.
func startSearchRig(ctx context.Context, t *testing.T, base, name, addr string) *searchRig {
	t.Helper()
	admin, err := serverproc.ReplaceDB(base, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	dbURL, drop, err := serverproc.FreshDatabase(ctx, admin, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
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
	t.Cleanup(func() { db.Close() })
	copyTime, analyzeTime, err := workload.SeedDoctors(ctx, db, loadDoctors, 1)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	slots, err := workload.SeedSlots(ctx, db)
	if err != nil {
		t.Fatalf("seed slots: %v", err)
	}
	t.Logf("%s; %d free slots for the doctors around São Paulo", workload.DescribeSeed(loadDoctors, copyTime, analyzeTime), slots)

	key, err := serverproc.SigningKey()
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
		metricsSetting(searchProfilePort),
		"HEALTHMED_NOTIFY_WORKER=false",
		// One address sends everything here: the per-address limit
		// would measure itself.
		"HEALTHMED_SEARCH_PER_MINUTE=0",
	)
	r, err := serverproc.Start(ctx, bin, env, "search", addr, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop("") })
	if err := r.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return &searchRig{url: dbURL, dir: dir, addr: addr, name: name, db: db, server: r}
}
