// Command subload measures GraphQL subscriptions at scale: N websocket
// subscribers of one doctor's agendaUpdated, held by two server replicas on
// one database, and how long one event takes to reach all of them.
//
// # Running
//
//	make bench-subs N=20000
//	go run ./bench/subload -n 2000            # from the module root
//	go run ./bench/subload -h                 # every knob
//
// It needs a local PostgreSQL with PostGIS (the one `make test` uses); the
// make target starts it if it is down. Everything else it sets up and tears
// down itself, within -timeout (15 minutes by default):
//
//  1. builds cmd/healthmed once (or takes -bin), creates a fresh database
//     (-db, default healthmed_subload; dropped at the end), migrates and
//     seeds it with `healthmed seed`;
//  2. starts two `healthmed serve` replicas on 127.0.0.1:18081 and :18082
//     with one generated ES256 signing key and one public URL, so a token
//     from one is good on the other, and a token lifetime longer than the
//     run (development mode fills in the other secrets);
//  3. signs in as the demo doctor 100001/SP and starts client processes
//     (copies of this program, at most -per-client sockets each, at least
//     two), each dialling from its own source address 127.0.0.2, 127.0.0.3,
//     ... (a process may hold 20,000 files here, and one source address
//     has about 28,000 ephemeral ports). Consecutive sockets alternate
//     between the replicas. Each opens a graphql-transport-ws socket,
//     authenticates in connection_init, waits for connection_ack and
//     subscribes to agendaUpdated;
//  4. sends warm-up events (createSlots on replica A) until every socket
//     has received one, which proves every subscription is registered;
//  5. sends -events events, -gap apart, and collects when each socket
//     received each of them;
//  6. stops the clients (sockets reset, so no ports linger in TIME_WAIT),
//     the replicas (SIGTERM, then SIGKILL) and drops the database.
//
// Only loopback addresses are ever contacted.
//
// # What it reports
//
//   - connect: per socket, dial to connection_ack (p50/p99/max), and the
//     total from the first dial to the last ack over all clients.
//   - memory: VmRSS of each replica just before the clients start and once
//     every subscription is live (after a short settle), per connection:
//     (after - before) / sockets on that replica, and both replicas
//     together over N. Go's RSS includes garbage not yet collected and
//     free memory not yet returned, so it depends on where the garbage
//     collector stands when it is read (expect a few KiB of noise); it is
//     also what a container limit sees.
//   - delivery: for each event, the time from just before the createSlots
//     request was sent to replica A until a client read the event off its
//     socket, over all N sockets (p50/p99/max), per replica (replica B
//     learns of the event through PostgreSQL NOTIFY), and the sockets that
//     never received it within -event-timeout (missing).
//   - CPU: what the replicas and the clients used while connecting and
//     while delivering, and the replicas' CPU per delivered event, which
//     other load on the machine disturbs far less than the latencies.
//   - the machine's load average before and after: the clients share the
//     cores with the replicas, PostgreSQL and whatever else runs, so the
//     latencies include all of it; they are a ceiling for what the servers
//     alone would show.
//
// # Mixed load: the product's 20,000 users
//
//	make bench-mixed N=20000
//	go run ./bench/subload -mixed -n 2000 -search-rate 50 -book-rate 10
//
// With -mixed the same run becomes a day of the product rather than one
// doctor's broadcast. The seed adds -doctors doctors (200,000 by default,
// the search benchmarks' distribution: 35% around São Paulo) with three
// free slots tomorrow for those within 15 km of it, -patients patients
// (N/10 by default) with an insurance plan each, and a grid of half-hour
// slots on -booked-doctors doctors within 10 km. Of the N sockets, the
// patients' are spread among the doctor's screens, each a signed-in
// patient on their own appointmentUpdated; every patient books one slot
// first, whose update proves their subscription live. Then, while the
// orchestrator sends its fan-out events as in the default mode, its
// goroutines play the patients and doctors over HTTP, open loop, both
// replicas alternately: -search-rate searches per second (the search of
// the targets: Cardiology within 10 km of São Paulo, first 20, with the
// distance and nextFreeSlot), -book-rate bookings per second on slots
// nobody else books, and each booking's doctor accepting it
// -accept-after later. The load runs for -duration, or until the last
// event is delivered if that is later. The replicas keep their bound on
// requests in flight; only the per-address and per-patient rate limits
// are off, since every request comes from one address.
//
// Besides the default mode's figures (memory per socket is read before
// the patients' warm-up bookings, so that it is the sockets'), it
// reports: search, booking and acceptance latency (p50/p95/p99, from
// when each request was due), answered rates and errors by code; the
// targeted delivery, from just before an acceptance was sent until its
// patient's socket read it, split by whether that socket is on the
// replica that took the acceptance; the fan-out under the load, to the
// N - patients screens; the CPU the replicas, PostgreSQL's backends, the
// client processes and the orchestrator used during the load; and the
// seeded patients' appointments in the database against what the
// answers said. An acceptance that never reaches its patient, or an
// answered booking or acceptance missing from the database, fails the
// run. The targets then default to 300 ms for the fan-out's p99, 32 KiB
// per connection and 25 ms for the targeted p99 (-target-targeted-p99).
//
// It ends with a verdict on the targets (-target-p99, -target-kib). The
// exit status is 1 when the run itself failed: a socket did not connect,
// or an event went missing; with -strict, also when a target was missed.
package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/lib/pq"

	"github.com/healthmed/healthmed/bench/serverproc"
)

type options struct {
	n            int
	events       int
	gap          time.Duration
	eventTimeout time.Duration
	warmTimeout  time.Duration
	timeout      time.Duration
	perClient    int
	concurrency  int
	clientProcs  int
	serverEnv    envList
	srcBase      string
	addrs        []string
	pgURL        string
	db           string
	bin          string
	logDir       string
	jsonOut      string
	hold         time.Duration
	targetP99    time.Duration
	targetKiB    float64
	strict       bool
	mixed        mixedOptions
}

func main() {
	var o options
	var wf workerFlags
	var worker bool
	var servers, addrs string
	flag.IntVar(&o.n, "n", 2000, "subscriptions to open")
	flag.IntVar(&o.events, "events", 10, "measured events")
	flag.DurationVar(&o.gap, "gap", 2*time.Second, "pause between measured events")
	flag.DurationVar(&o.eventTimeout, "event-timeout", 15*time.Second, "how long every socket has to receive an event")
	flag.DurationVar(&o.warmTimeout, "warm-timeout", 3*time.Minute, "how long every subscription has to go live")
	flag.DurationVar(&o.timeout, "timeout", 15*time.Minute, "the whole run, set-up and tear-down included")
	flag.IntVar(&o.perClient, "per-client", 5000, "sockets per client process (each process may hold 20,000 files)")
	flag.IntVar(&o.concurrency, "concurrency", 32, "handshakes in flight per client process")
	flag.IntVar(&o.clientProcs, "client-procs", 0, "GOMAXPROCS of each client process (0: Go's default); the clients share the cores with the replicas")
	flag.StringVar(&o.srcBase, "src", "127.0.0.2", "source address of the first client process; the next ones count up")
	flag.StringVar(&addrs, "addrs", "127.0.0.1:18081,127.0.0.1:18082", "listen addresses of the two replicas (loopback only)")
	flag.StringVar(&o.pgURL, "pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL maintenance database, to create and drop -db")
	flag.StringVar(&o.db, "db", "healthmed_subload", "scratch database, dropped and recreated (its name must contain \"subload\")")
	flag.StringVar(&o.bin, "bin", "", "healthmed binary to run (default: go build ./cmd/healthmed)")
	flag.StringVar(&o.logDir, "logs", "", "keep the replicas' logs in this directory")
	flag.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	flag.DurationVar(&o.hold, "hold", 0, "keep the subscriptions open this long after the memory reading, for a look with other tools")
	flag.Var(&o.serverEnv, "server-env", "NAME=value for both replicas, e.g. GOGC=50 or GOMEMLIMIT=1GiB (repeatable)")
	flag.DurationVar(&o.targetP99, "target-p99", time.Second, "delivery p99 target")
	flag.Float64Var(&o.targetKiB, "target-kib", 50, "server memory target per connection, KiB")
	flag.BoolVar(&o.strict, "strict", false, "exit with status 1 when a target is missed, not only when the run fails")
	o.mixed.register(flag.CommandLine)

	flag.BoolVar(&worker, "worker", false, "internal: run as a client process")
	flag.StringVar(&servers, "worker-servers", "", "internal")
	flag.IntVar(&wf.first, "worker-first", 0, "internal")
	flag.IntVar(&wf.conns, "worker-conns", 0, "internal")
	flag.StringVar(&wf.src, "worker-src", "", "internal")
	flag.IntVar(&wf.concurrency, "worker-concurrency", 32, "internal")
	flag.DurationVar(&wf.deadline, "worker-deadline", 15*time.Minute, "internal")
	flag.IntVar(&wf.patients, "worker-patients", 0, "internal")
	flag.Parse()

	if worker {
		wf.servers = splitList(servers)
		if err := checkLoopback(append([]string{wf.src}, wf.servers...)...); err != nil {
			fmt.Fprintln(os.Stderr, "subload worker:", err)
			os.Exit(2)
		}
		if err := runWorker(wf, os.Getenv("SUBLOAD_TOKEN")); err != nil {
			fmt.Fprintln(os.Stderr, "subload worker:", err)
			os.Exit(1)
		}
		return
	}

	o.addrs = splitList(addrs)
	if o.mixed.on {
		o.mixed.defaults(o.n)
		// The targets of the product's 20,000 users, unless asked for
		// others.
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["target-p99"] {
			o.targetP99 = 300 * time.Millisecond
		}
		if !set["target-kib"] {
			o.targetKiB = 32
		}
	}
	if err := o.check(); err != nil {
		fmt.Fprintln(os.Stderr, "subload:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, o)
	if res != nil {
		res.print(os.Stdout, o)
		if o.jsonOut != "" {
			if b, jerr := json.MarshalIndent(res, "", "  "); jerr == nil {
				_ = os.WriteFile(o.jsonOut, b, 0o644)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "subload:", err)
		os.Exit(1)
	}
	failed, missed := res.failures(o)
	switch {
	case len(missed) == 0:
		if o.mixed.on {
			fmt.Printf("targets        met (fan-out p99 < %s, targeted p99 < %s, < %.0f KiB per connection)\n", o.targetP99, o.mixed.targetTargeted, o.targetKiB)
		} else {
			fmt.Printf("targets        met (p99 < %s, < %.0f KiB per connection)\n", o.targetP99, o.targetKiB)
		}
	default:
		fmt.Printf("targets        missed: %s\n", strings.Join(missed, "; "))
	}
	if len(failed) > 0 {
		fmt.Fprintln(os.Stderr, "subload: run failed:", strings.Join(failed, "; "))
		os.Exit(1)
	}
	if o.strict && len(missed) > 0 {
		os.Exit(1)
	}
}

// envList collects repeated NAME=value flags.
type envList []string

func (e *envList) String() string { return strings.Join(*e, " ") }

func (e *envList) Set(v string) error {
	name, _, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return errors.New("want NAME=value")
	}
	if !tunable(name) {
		return fmt.Errorf("%s is set by the benchmark itself, or could send traffic off the machine", name)
	}
	*e = append(*e, v)
	return nil
}

// tunable reports whether a replica setting may come from the caller's
// environment or -server-env. The benchmark sets the addresses and the
// database itself, and leaves out anything that exports telemetry, so
// that every packet stays on loopback.
func tunable(name string) bool {
	switch {
	case name == "DATABASE_URL", name == "HEALTHMED_LISTEN_ADDR", name == "HEALTHMED_PUBLIC_URL",
		strings.HasPrefix(name, "OTEL_"), strings.Contains(name, "OTLP"):
		return false
	}
	return true
}

// replicaEnv is the caller's environment without the settings of a
// server it may be configured for: the benchmark's replicas get only
// what run gives them and -server-env.
func replicaEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "HEALTHMED_") || !tunable(name) {
			continue
		}
		env = append(env, kv)
	}
	return env
}

var dbName = regexp.MustCompile(`^[a-z_][a-z0-9_]*subload[a-z0-9_]*$`)

func (o *options) check() error {
	switch {
	case o.n < 1 || o.n > 36000:
		// each replica holds half, and a process may hold 20,000 files
		return errors.New("-n: between 1 and 36000")
	case o.events < 1 || o.events > 1000:
		return errors.New("-events: between 1 and 1000")
	case o.perClient < 1 || o.perClient > 9000:
		return errors.New("-per-client: between 1 and 9000 (a process may hold 20,000 files)")
	case o.concurrency < 1 || o.concurrency > 1000:
		return errors.New("-concurrency: between 1 and 1000")
	case len(o.addrs) != 2:
		return errors.New("-addrs: two listen addresses")
	case !dbName.MatchString(o.db):
		return errors.New("-db: a plain lower-case name containing \"subload\" (it is dropped)")
	case o.timeout <= 0 || o.timeout > 2*time.Hour:
		return errors.New("-timeout: positive, at most 2h")
	}
	if err := checkLoopback(o.addrs...); err != nil {
		return err
	}
	if o.mixed.on {
		if err := o.mixed.check(o.n); err != nil {
			return err
		}
	}
	if u, err := url.Parse(o.pgURL); err != nil || u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return errors.New("-pg: want a postgres:// URL")
	} else if err := checkLoopback(u.Hostname()); err != nil {
		return fmt.Errorf("-pg: %w", err)
	}
	ip := net.ParseIP(o.srcBase).To4()
	if ip == nil || ip[0] != 127 {
		return errors.New("-src: an IPv4 loopback address")
	}
	clients := o.clients()
	if int(ip[3])+clients-1 > 254 {
		return errors.New("-src: not enough addresses after it for every client process")
	}
	return nil
}

// checkLoopback refuses any address outside 127.0.0.0/8: the benchmark
// never sends traffic anywhere else.
func checkLoopback(hostports ...string) error {
	for _, hp := range hostports {
		host := hp
		if h, _, err := net.SplitHostPort(hp); err == nil {
			host = h
		}
		ip := net.ParseIP(host)
		if ip == nil || ip.To4() == nil || !ip.IsLoopback() {
			return fmt.Errorf("%q: only IPv4 loopback addresses (127.0.0.0/8) are allowed", hp)
		}
	}
	return nil
}

func (o *options) clients() int {
	return max(2, (o.n+o.perClient-1)/o.perClient)
}

// srcAddr is the source address of client process i.
func (o *options) srcAddr(i int) string {
	ip := net.ParseIP(o.srcBase).To4()
	return net.IPv4(ip[0], ip[1], ip[2], ip[3]+byte(i)).String()
}

// results is everything the run measured.
type results struct {
	N          int      `json:"n"`
	Clients    int      `json:"clients"`
	Acked      int      `json:"acked"`
	Patients   int      `json:"patients"` // of Acked, patients' sockets (-mixed)
	Failed     int      `json:"failed"`
	PerReplica [2]int   `json:"per_replica"`
	ConnErrors []string `json:"connect_errors,omitempty"`

	ConnectP50   time.Duration `json:"connect_p50"`
	ConnectP99   time.Duration `json:"connect_p99"`
	ConnectMax   time.Duration `json:"connect_max"`
	ConnectTotal time.Duration `json:"connect_total"`
	// Of the connect time, the dial to the server's 101 answer.
	UpgradeP50 time.Duration `json:"upgrade_p50"`
	UpgradeP99 time.Duration `json:"upgrade_p99"`
	UpgradeMax time.Duration `json:"upgrade_max"`
	LiveAfter  time.Duration `json:"live_after"` // from the first dial until every subscription had an event
	NotLive    int           `json:"not_live"`

	RSSBeforeKiB     [2]int64         `json:"rss_before_kib"`
	RSSAfterKiB      [2]int64         `json:"rss_after_kib"`
	RSSEndKiB        [2]int64         `json:"rss_end_kib"`
	Threads          [2]int64         `json:"threads"`
	KiBPerConn       [2]float64       `json:"kib_per_conn"`
	KiBPerConnAll    float64          `json:"kib_per_conn_all"`
	CPUConnect       [2]time.Duration `json:"cpu_connect"`
	CPUEvents        [2]time.Duration `json:"cpu_events"`
	CPUPerDelivery   time.Duration    `json:"cpu_per_delivery"` // both replicas' CPU while delivering / deliveries
	LoadAvg          [2]string        `json:"loadavg"`          // machine load before connecting, after the events
	ClientCPUConnect time.Duration    `json:"client_cpu_connect"`
	ClientCPUEvents  time.Duration    `json:"client_cpu_events"`

	Events      []eventResult `json:"events"`
	Delivery    dist          `json:"delivery"`
	DeliveryRep [2]dist       `json:"delivery_per_replica"`
	Missing     int           `json:"missing"`
	Closed      int           `json:"closed"`
	Errors      []string      `json:"errors,omitempty"`

	Mixed *mixedResults `json:"mixed,omitempty"`
}

// screens are the acked sockets of the doctor's agenda, which every
// fan-out event must reach.
func (r *results) screens() int { return r.Acked - r.Patients }

type eventResult struct {
	Slot     string        `json:"slot"`
	Mutation time.Duration `json:"mutation"` // createSlots round trip
	Delivery dist          `json:"delivery"`
	PerRep   [2]dist       `json:"per_replica"`
	Missing  int           `json:"missing"`
	// Refused is how many sends of the event a busy replica refused
	// before one was let in.
	Refused int `json:"refused,omitempty"`
}

func run(ctx context.Context, o options) (*results, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	tmp, err := os.MkdirTemp("", "subload-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	bin := o.bin
	if bin == "" {
		bin = filepath.Join(tmp, "healthmed")
		say("building cmd/healthmed")
		if err := serverproc.Build(ctx, bin); err != nil {
			return nil, err
		}
	}

	dbURL, dropDB, err := serverproc.FreshDatabase(ctx, o.pgURL, o.db)
	if err != nil {
		return nil, err
	}
	defer dropDB()

	key, err := serverproc.SigningKey()
	if err != nil {
		return nil, err
	}
	env := append(replicaEnv(),
		"DATABASE_URL="+dbURL,
		// Development mode fills in every secret the benchmark does not
		// care about (generated once into the shared data directory by
		// the seed run); the signing key is given explicitly so that both
		// replicas verify each other's tokens.
		"HEALTHMED_DEV=true",
		"HEALTHMED_SIGNING_KEY="+key,
		"HEALTHMED_TOKEN_TTL="+(o.timeout+10*time.Minute).String(),
		// One public URL for both, as behind a load balancer: it is the
		// tokens' issuer.
		"HEALTHMED_PUBLIC_URL=http://"+o.addrs[0],
		"HEALTHMED_DATA_DIR="+tmp,
		"HEALTHMED_SHUTDOWN_TIMEOUT=10s",
		// Every screen is the same doctor's.
		"HEALTHMED_SUBSCRIPTIONS_PER_ACCOUNT=0",
	)
	if o.mixed.on {
		// Every patient and doctor sends from one loopback address,
		// and a patient books more often than a person would: the
		// per-address and per-patient limits would measure themselves.
		// The bound on work in flight per replica stays as configured.
		env = append(env, "HEALTHMED_SEARCH_PER_MINUTE=0", "HEALTHMED_BOOKING_PER_MINUTE=0")
	}
	env = append(env, o.serverEnv...)
	say("migrating and seeding %s", o.db)
	seedCmd := exec.CommandContext(ctx, bin, "seed")
	seedCmd.Env = env
	if out, err := seedCmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("healthmed seed: %w\n%s", err, serverproc.TailLines(out, 20))
	}
	var seed *mixedSeed
	var db *sql.DB
	if o.mixed.on {
		if db, err = sql.Open("postgres", dbURL); err != nil {
			return nil, err
		}
		defer db.Close()
		say("seeding %d doctors, %d patients and the slots they book", o.mixed.doctors, o.mixed.patients)
		if seed, err = seedMixed(ctx, db, o, key); err != nil {
			return nil, err
		}
	}

	reps := make([]*serverproc.Replica, 2)
	for i, addr := range o.addrs {
		r, err := serverproc.Start(ctx, bin, env, "ABCDEFGH"[i:i+1], addr, tmp)
		if err != nil {
			return nil, err
		}
		reps[i] = r
		defer r.Stop(o.logDir)
	}
	for _, r := range reps {
		if err := r.WaitReady(ctx); err != nil {
			return nil, err
		}
	}
	gql := &gqlClient{http: &http.Client{Timeout: 30 * time.Second}}
	token, err := gql.login(ctx, reps[0].Addr)
	if err != nil {
		return nil, err
	}
	// One query on each replica, so the baseline has its GraphQL engine,
	// database pool and token verification warmed up.
	for _, r := range reps {
		if _, err := gql.do(ctx, r.Addr, token, `{ __typename }`, nil); err != nil {
			return nil, err
		}
	}
	time.Sleep(time.Second)

	res := &results{N: o.n, Clients: o.clients(), LoadAvg: [2]string{loadAvg(), ""}}
	var cpu0 [2]time.Duration
	for i, r := range reps {
		if res.RSSBeforeKiB[i], _, err = serverproc.Status(r.Cmd.Process.Pid); err != nil {
			return res, err
		}
		cpu0[i], _ = serverproc.CPU(r.Cmd.Process.Pid)
	}

	say("opening %d subscriptions from %d client processes", o.n, res.Clients)
	self, err := os.Executable()
	if err != nil {
		return res, err
	}
	clients, err := startClients(ctx, o, self, token, seed)
	if err != nil {
		return res, err
	}
	defer stopClients(clients)

	var connUS, upUS []int64
	var firstDial, lastAck int64
	for _, c := range clients {
		var rep connectedReport
		if err := c.receive(ctx, &rep, o.timeout); err != nil {
			return res, fmt.Errorf("client %d: %w", c.idx, err)
		}
		res.Acked += rep.Acked
		res.Patients += rep.Patients
		res.Failed += rep.Failed
		for i, n := range rep.PerReplica {
			res.PerReplica[i] += n
		}
		res.ConnErrors = append(res.ConnErrors, rep.Errors...)
		connUS = append(connUS, rep.ConnectUS...)
		upUS = append(upUS, rep.UpgradeUS...)
		if firstDial == 0 || (rep.FirstDial != 0 && rep.FirstDial < firstDial) {
			firstDial = rep.FirstDial
		}
		lastAck = max(lastAck, rep.LastAck)
	}
	cd := summarize(connUS)
	res.ConnectP50, res.ConnectP99, res.ConnectMax = cd.P50, cd.P99, cd.Max
	ud := summarize(upUS)
	res.UpgradeP50, res.UpgradeP99, res.UpgradeMax = ud.P50, ud.P99, ud.Max
	if lastAck > firstDial {
		res.ConnectTotal = time.Duration(lastAck - firstDial)
	}
	say("%d acked, %d failed in %s; waiting for every subscription to go live", res.Acked, res.Failed, res.ConnectTotal.Round(time.Millisecond))

	// Past the demo agenda, within the slot horizon (12 months by default).
	slots := &slotMaker{base: time.Now().Add(300 * 24 * time.Hour).Truncate(time.Hour)}
	live, err := warmUp(ctx, o, gql, reps[0].Addr, token, clients, slots, res.screens())
	if err != nil {
		return res, err
	}
	res.LiveAfter = time.Duration(time.Now().UnixNano() - firstDial)
	res.NotLive = res.screens() - live
	say("%d of %d screens live after %s", live, res.screens(), res.LiveAfter.Round(time.Millisecond))

	// Let the replicas finish the handshakes' leftovers before reading RSS.
	serverproc.Sleep(ctx, 3*time.Second)
	var cpu1 [2]time.Duration
	for i, r := range reps {
		if res.RSSAfterKiB[i], res.Threads[i], err = serverproc.Status(r.Cmd.Process.Pid); err != nil {
			return res, err
		}
		cpu1[i], _ = serverproc.CPU(r.Cmd.Process.Pid)
		res.CPUConnect[i] = cpu1[i] - cpu0[i]
		if res.PerReplica[i] > 0 {
			res.KiBPerConn[i] = float64(res.RSSAfterKiB[i]-res.RSSBeforeKiB[i]) / float64(res.PerReplica[i])
		}
	}
	clientCPU := func() time.Duration {
		var sum time.Duration
		for _, c := range clients {
			d, _ := serverproc.CPU(c.cmd.Process.Pid)
			sum += d
		}
		return sum
	}
	res.ClientCPUConnect = clientCPU()
	if res.Acked > 0 {
		res.KiBPerConnAll = float64(res.RSSAfterKiB[0]+res.RSSAfterKiB[1]-res.RSSBeforeKiB[0]-res.RSSBeforeKiB[1]) / float64(res.Acked)
	}

	if o.hold > 0 {
		say("holding the subscriptions for %s", o.hold)
		if !serverproc.Sleep(ctx, o.hold) {
			return res, ctx.Err()
		}
	}

	if o.mixed.on {
		// After the memory reading: the bookings' first run through the
		// pool and the caches is no socket's memory.
		res.Mixed = &mixedResults{Patients: res.Patients, Screens: res.screens()}
		say("warming up the %d patients' sockets: one booking each", res.Patients)
		plive, err := warmPatients(ctx, o, seed, clients, res.Patients)
		if err != nil {
			return res, err
		}
		res.Mixed.PatientsLive = plive
		res.NotLive += res.Patients - plive
		say("%d of %d patients' sockets live", plive, res.Patients)
	}
	clientCPU0 := clientCPU()
	var all []int64
	var perRep [2][]int64
	sendEvents := func() error {
		say("sending %d events, %s apart", o.events, o.gap)
		for e := range o.events {
			if e > 0 && !serverproc.Sleep(ctx, o.gap) {
				return ctx.Err()
			}
			ev, lat, err := oneEvent(ctx, o, gql, reps[0].Addr, token, clients, slots)
			if err != nil {
				return err
			}
			res.Events = append(res.Events, ev.eventResult)
			res.Missing += ev.Missing
			res.Closed = ev.closed
			res.Errors = append(res.Errors, ev.errors...)
			for i := range lat {
				all = append(all, lat[i]...)
				perRep[i] = append(perRep[i], lat[i]...)
			}
			say("event %d: %s, missing %d (mutation %s)", e+1, ev.Delivery, ev.Missing, ms(ev.Mutation))
		}
		return nil
	}
	if o.mixed.on {
		mr, err := mixedPhase(ctx, o, seed, db, o.db, reps, clients, sendEvents)
		mr.Patients, mr.PatientsLive, mr.Screens = res.Mixed.Patients, res.Mixed.PatientsLive, res.Mixed.Screens
		res.Mixed = mr
		if err != nil {
			return res, err
		}
	} else if err := sendEvents(); err != nil {
		return res, err
	}
	res.Delivery = summarize(all)
	for i := range perRep {
		res.DeliveryRep[i] = summarize(perRep[i])
	}
	for i, r := range reps {
		res.RSSEndKiB[i], _, _ = serverproc.Status(r.Cmd.Process.Pid)
		cpu, _ := serverproc.CPU(r.Cmd.Process.Pid)
		res.CPUEvents[i] = cpu - cpu1[i]
	}
	res.ClientCPUEvents = clientCPU() - clientCPU0
	if n := len(all); n > 0 {
		res.CPUPerDelivery = (res.CPUEvents[0] + res.CPUEvents[1]) / time.Duration(n)
	}
	res.LoadAvg[1] = loadAvg()
	return res, nil
}

// slotMaker hands out non-overlapping future slots for the events.
type slotMaker struct {
	base time.Time
	n    int
}

func (s *slotMaker) next() map[string]any {
	start := s.base.Add(time.Duration(s.n) * time.Hour)
	s.n++
	return map[string]any{"startsAt": start.Format(time.RFC3339), "endsAt": start.Add(30 * time.Minute).Format(time.RFC3339)}
}

const createSlot = `mutation($in: [SlotInput!]!) { createSlots(input: $in) { id } }`

func (g *gqlClient) createSlot(ctx context.Context, addr, token string, slots *slotMaker) (string, error) {
	data, err := g.do(ctx, addr, token, createSlot, map[string]any{"in": []any{slots.next()}})
	if err != nil {
		return "", err
	}
	var d struct {
		CreateSlots []struct {
			ID string `json:"id"`
		} `json:"createSlots"`
	}
	if err := json.Unmarshal(data, &d); err != nil || len(d.CreateSlots) != 1 {
		return "", fmt.Errorf("createSlots: unexpected answer %s", data)
	}
	return d.CreateSlots[0].ID, nil
}

// warmUp sends events until every acked screen has received one: a
// subscription registered after an event was committed never gets that
// event, so one event is not enough while the replicas still work
// through the subscribe backlog.
func warmUp(ctx context.Context, o options, g *gqlClient, addr, token string, clients []*client, slots *slotMaker, acked int) (int, error) {
	deadline := time.Now().Add(o.warmTimeout)
	live := 0
	for time.Now().Before(deadline) {
		if _, err := g.createSlot(ctx, addr, token, slots); err != nil {
			return 0, err
		}
		if !serverproc.Sleep(ctx, 2*time.Second) {
			return 0, ctx.Err()
		}
		var err error
		if live, _, err = liveCounts(ctx, clients); err != nil {
			return 0, err
		}
		if live >= acked {
			return live, nil
		}
		say("  %d of %d live", live, acked)
	}
	return live, nil
}

type eventOutcome struct {
	eventResult
	closed int
	errors []string
}

func oneEvent(ctx context.Context, o options, g *gqlClient, addr, token string, clients []*client, slots *slotMaker) (eventOutcome, [2][]int64, error) {
	var out eventOutcome
	var lat [2][]int64
	t0 := time.Now()
	slot, err := g.createSlot(ctx, addr, token, slots)
	for tries := 1; errors.Is(err, errBusy) && tries < 50; tries++ {
		// Delivery is timed from the send that was let in.
		out.Refused++
		if !serverproc.Sleep(ctx, 100*time.Millisecond) {
			return out, lat, ctx.Err()
		}
		t0 = time.Now()
		slot, err = g.createSlot(ctx, addr, token, slots)
	}
	if err != nil {
		return out, lat, err
	}
	out.Mutation = time.Since(t0)
	out.Slot = slot
	for _, c := range clients {
		if err := c.send(command{Cmd: "await", Slot: slot, T0: t0.UnixNano(), Timeout: o.eventTimeout.Milliseconds()}); err != nil {
			return out, lat, err
		}
	}
	for _, c := range clients {
		var r eventReport
		if err := c.receive(ctx, &r, o.eventTimeout+30*time.Second); err != nil {
			return out, lat, fmt.Errorf("client %d: %w", c.idx, err)
		}
		out.Missing += r.Missing
		out.closed += r.Closed
		out.errors = append(out.errors, r.Errors...)
		for i := range min(len(r.LatencyUS), 2) {
			lat[i] = append(lat[i], r.LatencyUS[i]...)
		}
	}
	out.Delivery = summarize(append(append([]int64(nil), lat[0]...), lat[1]...))
	for i := range lat {
		out.PerRep[i] = summarize(lat[i])
	}
	return out, lat, nil
}

// --- client processes -------------------------------------------------------

type client struct {
	idx   int
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan []byte
	done  chan struct{}
}

// startClients starts the client processes, each with its share of the
// sockets and of the patients among them (seed, with -mixed).
func startClients(ctx context.Context, o options, self, token string, seed *mixedSeed) ([]*client, error) {
	k := o.clients()
	var out []*client
	first, pfirst := 0, 0
	for i := range k {
		n := o.n / k
		if i < o.n%k {
			n++
		}
		var m int
		if seed != nil {
			p := len(seed.patientTokens)
			m = p / k
			if i < p%k {
				m++
			}
			m = min(m, n)
		}
		cmd := exec.Command(self, "-worker",
			"-worker-servers", strings.Join(o.addrs, ","),
			"-worker-first", strconv.Itoa(first),
			"-worker-conns", strconv.Itoa(n),
			"-worker-src", o.srcAddr(i),
			"-worker-concurrency", strconv.Itoa(o.concurrency),
			"-worker-deadline", o.timeout.String(),
			"-worker-patients", strconv.Itoa(m),
		)
		// The token goes through the environment, not the command line
		// that every user of the machine can read.
		cmd.Env = append(os.Environ(), "SUBLOAD_TOKEN="+token)
		if o.clientProcs > 0 {
			cmd.Env = append(cmd.Env, "GOMAXPROCS="+strconv.Itoa(o.clientProcs))
		}
		cmd.Stderr = os.Stderr
		serverproc.DieWithParent(cmd)
		in, err := cmd.StdinPipe()
		if err != nil {
			return out, err
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return out, err
		}
		if err := cmd.Start(); err != nil {
			return out, err
		}
		c := &client{idx: i, cmd: cmd, in: in, lines: make(chan []byte, 4), done: make(chan struct{})}
		if m > 0 {
			b, _ := json.Marshal(patientTokens{Tokens: seed.patientTokens[pfirst : pfirst+m]})
			if _, err := in.Write(append(b, '\n')); err != nil {
				return out, err
			}
			pfirst += m
		}
		go func() {
			defer close(c.lines)
			r := bufio.NewReaderSize(stdout, 1<<20)
			for {
				line, err := r.ReadBytes('\n')
				if len(line) > 0 {
					select {
					case c.lines <- line:
					case <-c.done:
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
		out = append(out, c)
		first += n
	}
	return out, nil
}

func (c *client) send(cmd command) error {
	b, _ := json.Marshal(cmd)
	_, err := c.in.Write(append(b, '\n'))
	return err
}

func (c *client) receive(ctx context.Context, v any, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case line, ok := <-c.lines:
		if !ok {
			return errors.New("client process exited")
		}
		return json.Unmarshal(line, v)
	case <-t.C:
		return errors.New("no answer in time")
	case <-ctx.Done():
		return ctx.Err()
	}
}

func stopClients(cs []*client) {
	for _, c := range cs {
		_ = c.send(command{Cmd: "stop"})
		_ = c.in.Close()
	}
	for _, c := range cs {
		close(c.done)
		waitOrKill(c.cmd, 15*time.Second)
	}
}

// waitOrKill waits for a started process and kills it after grace.
func waitOrKill(cmd *exec.Cmd, grace time.Duration) {
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// --- GraphQL over HTTP ------------------------------------------------------

type gqlClient struct{ http *http.Client }

// postGraphQL posts payload to addr's /graphql, with token when given,
// and returns the answer's status, headers and first MiB of body.
func postGraphQL(ctx context.Context, c *http.Client, addr, token string, payload []byte) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/graphql", bytes.NewReader(payload))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return res.StatusCode, res.Header, b, err
}

func (g *gqlClient) do(ctx context.Context, addr, token, query string, vars map[string]any) (json.RawMessage, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	status, header, b, err := postGraphQL(ctx, g.http, addr, token, body)
	if err != nil {
		return nil, err
	}
	var out struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("HTTP %d: %.200s", status, b)
	}
	if status == http.StatusServiceUnavailable {
		return nil, fmt.Errorf("%w: %s", errBusy, header.Get("Retry-After"))
	}
	if len(out.Errors) > 0 {
		return nil, fmt.Errorf("graphql: %s", out.Errors[0].Message)
	}
	return out.Data, nil
}

// errBusy is a replica's refusal at admission (503): under the mixed
// load the doctor's own event is refused like anyone's request, and a
// client sends it again, as the answer asks.
var errBusy = errors.New("the replica is busy")

func (g *gqlClient) login(ctx context.Context, addr string) (string, error) {
	data, err := g.do(ctx, addr, "", `mutation($crm: String!, $pw: String!) { loginDoctor(crm: $crm, password: $pw) { token } }`,
		map[string]any{"crm": "100001/SP", "pw": "demo-doctor-2026"})
	if err != nil {
		return "", fmt.Errorf("login: %w", err)
	}
	var d struct {
		LoginDoctor struct {
			Token string `json:"token"`
		} `json:"loginDoctor"`
	}
	if err := json.Unmarshal(data, &d); err != nil || d.LoginDoctor.Token == "" {
		return "", fmt.Errorf("login: unexpected answer")
	}
	return d.LoginDoctor.Token, nil
}

// --- output -----------------------------------------------------------------

func (r *results) print(w io.Writer, o options) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("")
	p("subscriptions  N=%d over %d client processes; acked %d (A %d, B %d), failed %d",
		r.N, r.Clients, r.Acked, r.PerReplica[0], r.PerReplica[1], r.Failed)
	for _, e := range r.ConnErrors {
		p("  connect error: %s", e)
	}
	p("connect        p50 %s  p99 %s  max %s  all acked in %s; all live after %s (%d never live)",
		ms(r.ConnectP50), ms(r.ConnectP99), ms(r.ConnectMax), r.ConnectTotal.Round(time.Millisecond),
		r.LiveAfter.Round(time.Millisecond), r.NotLive)
	p("  upgrade      p50 %s  p99 %s  max %s  (of the above, the dial to the server's 101 answer)",
		ms(r.UpgradeP50), ms(r.UpgradeP99), ms(r.UpgradeMax))
	for i, name := range []string{"A", "B"} {
		p("replica %s      RSS %s -> %s (%s after events), %d threads; %.1f KiB per connection; CPU %.1fs connecting, %.1fs delivering",
			name, mib(r.RSSBeforeKiB[i]), mib(r.RSSAfterKiB[i]), mib(r.RSSEndKiB[i]), r.Threads[i], r.KiBPerConn[i],
			r.CPUConnect[i].Seconds(), r.CPUEvents[i].Seconds())
	}
	p("memory         %.1f KiB per connection over both replicas (target < %.0f)", r.KiBPerConnAll, o.targetKiB)
	p("clients        CPU %.1fs connecting, %.1fs delivering (all client processes)", r.ClientCPUConnect.Seconds(), r.ClientCPUEvents.Seconds())
	if r.Mixed == nil {
		p("server CPU     %.0fµs per delivered event (both replicas, pings and keep-alives included)", float64(r.CPUPerDelivery)/float64(time.Microsecond))
	}
	p("machine load   %s before, %s after (1/5/15-minute averages; the machine has %d cores)", r.LoadAvg[0], r.LoadAvg[1], runtime.NumCPU())
	for i, e := range r.Events {
		p("event %2d       %s; A %s / B %s; missing %d; mutation %s; refused first %d times", i+1, e.Delivery,
			ms(e.PerRep[0].P99), ms(e.PerRep[1].P99), e.Missing, ms(e.Mutation), e.Refused)
	}
	if r.Mixed != nil {
		p("fan-out        %s (target p99 < %s): one event of the doctor's to %d screens, under the load", r.Delivery, o.targetP99, r.screens())
	} else {
		p("delivery       %s (target p99 < %s)", r.Delivery, o.targetP99)
	}
	p("  replica A    %s", r.DeliveryRep[0])
	p("  replica B    %s", r.DeliveryRep[1])
	p("missing        %d deliveries of %d; %d sockets closed by the server", r.Missing, len(r.Events)*r.screens(), r.Closed)
	for _, e := range r.Errors {
		p("  client saw: %s", e)
	}
	if r.Mixed != nil {
		r.Mixed.print(w, o)
	}
}

// failures lists what makes the run itself a failure, and the targets it
// missed.
func (r *results) failures(o options) (failed, missed []string) {
	if r.Failed > 0 || r.Acked != r.N {
		failed = append(failed, fmt.Sprintf("%d of %d sockets failed to connect", r.N-r.Acked, r.N))
	}
	if r.Missing > 0 {
		failed = append(failed, fmt.Sprintf("%d deliveries missing", r.Missing))
	}
	if m := r.Mixed; m != nil {
		if m.TargetedMissing > 0 {
			failed = append(failed, fmt.Sprintf("%d acceptances never reached their patient", m.TargetedMissing))
		}
		if m.Lost > 0 {
			failed = append(failed, fmt.Sprintf("%d answered bookings or acceptances not in the database", m.Lost))
		}
		if m.Targeted.N == 0 || m.Targeted.P99 >= o.mixed.targetTargeted {
			missed = append(missed, fmt.Sprintf("targeted p99 %s, target %s", ms(m.Targeted.P99), o.mixed.targetTargeted))
		}
	}
	if r.Delivery.P99 >= o.targetP99 {
		missed = append(missed, fmt.Sprintf("delivery p99 %s, target %s", ms(r.Delivery.P99), o.targetP99))
	}
	if r.KiBPerConnAll >= o.targetKiB {
		missed = append(missed, fmt.Sprintf("%.1f KiB per connection, target %.0f", r.KiBPerConnAll, o.targetKiB))
	}
	return failed, missed
}

// loadAvg reads the 1, 5 and 15-minute load averages: other work on the
// machine shows up in the latencies.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func mib(kib int64) string { return fmt.Sprintf("%.0f MiB", float64(kib)/1024) }

func say(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "subload: "+format+"\n", args...)
}
