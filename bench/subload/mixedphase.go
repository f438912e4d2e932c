package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/healthmed/healthmed/bench/serverproc"
)

// mixedResults is what -mixed measured besides the default mode's.
type mixedResults struct {
	Seed          string        `json:"seed"`
	Patients      int           `json:"patients"`      // patients' sockets acked
	PatientsLive  int           `json:"patients_live"` // of them, proven live by the warm-up booking
	Screens       int           `json:"screens"`       // the doctor's screens acked
	Duration      time.Duration `json:"duration"`      // requests were sent for
	SearchOffered int           `json:"search_offered_per_s"`
	BookOffered   int           `json:"book_offered_per_s"`
	Search        opSummary     `json:"search"`
	Booking       opSummary     `json:"booking"`
	Accept        opSummary     `json:"accept"`
	OutOfSlots    int           `json:"out_of_slots,omitempty"`

	// From just before an acceptance was sent until its patient's socket
	// read it, and split by whether that socket is on the replica that
	// took the acceptance or learnt of it through PostgreSQL.
	Targeted        dist `json:"targeted"`
	TargetedSame    dist `json:"targeted_same_replica"`
	TargetedOther   dist `json:"targeted_other_replica"`
	TargetedWanted  int  `json:"targeted_wanted"` // acceptances answered
	TargetedMissing int  `json:"targeted_missing"`

	CPUReplicas time.Duration `json:"cpu_replicas"`
	CPUPostgres time.Duration `json:"cpu_postgres"`
	CPUClients  time.Duration `json:"cpu_clients"`
	CPUDriver   time.Duration `json:"cpu_driver"` // this process: the HTTP load and the orchestration
	RSSLoadKiB  [2]int64      `json:"rss_load_kib"`

	// The seeded patients' appointments in the database at the end, and
	// what the answers said there should be.
	DBRequested   int `json:"db_requested"`
	DBAccepted    int `json:"db_accepted"`
	WantRequested int `json:"want_requested"`
	WantAccept    int `json:"want_accepted"`
	Lost          int `json:"lost"`
}

// mixedPhase runs the load around events (the fan-out measurement of the
// default mode), then waits for every acceptance to reach its patient.
func mixedPhase(ctx context.Context, o options, seed *mixedSeed, db *sql.DB, dbName string,
	reps []*serverproc.Replica, clients []*client, events func() error) (*mixedResults, error) {
	m := o.mixed
	mr := &mixedResults{SearchOffered: m.searchRate, BookOffered: m.bookRate, Seed: seed.describe}
	cpuOf := func() (replicas, cl, self time.Duration) {
		for _, r := range reps {
			c, _ := serverproc.CPU(r.Cmd.Process.Pid)
			replicas += c
		}
		for _, c := range clients {
			d, _ := serverproc.CPU(c.cmd.Process.Pid)
			cl += d
		}
		self, _ = serverproc.CPU(os.Getpid())
		return replicas, cl, self
	}
	r0, c0, s0 := cpuOf()
	pg0 := serverproc.BackendCPU(ctx, db, dbName)

	load := newMixedLoad(m, o.addrs, seed)
	load.run(ctx)
	say("load: %d searches/s and %d bookings/s offered, each booking accepted %s after its answer", m.searchRate, m.bookRate, m.acceptAfter)
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			mr.Duration = load.stopLoad()
		}
	}
	defer stop()
	if !serverproc.Sleep(ctx, o.gap) {
		return mr, ctx.Err()
	}
	if err := events(); err != nil {
		return mr, err
	}
	if !serverproc.Sleep(ctx, time.Until(load.start.Add(m.duration))) {
		return mr, ctx.Err()
	}
	for i, r := range reps {
		mr.RSSLoadKiB[i], _, _ = serverproc.Status(r.Cmd.Process.Pid)
	}
	say("stopping the load; waiting for the answers and the acceptances still due")
	stop()
	r1, c1, s1 := cpuOf()
	pg1 := serverproc.BackendCPU(ctx, db, dbName)
	mr.CPUReplicas, mr.CPUClients, mr.CPUDriver = r1-r0, c1-c0, s1-s0
	mr.CPUPostgres = serverproc.BackendCPUSince(pg0, pg1)
	mr.Search = load.search.summary(mr.Duration)
	mr.Booking = load.book.summary(mr.Duration)
	mr.Accept = load.accept.summary(mr.Duration)
	mr.OutOfSlots = int(load.outOfSlots.Load())

	got, err := receipts(ctx, clients, load.sent, o.eventTimeout)
	if err != nil {
		return mr, err
	}
	var all, same, other []int64
	for id, s := range load.sent {
		if !s.OK {
			continue
		}
		mr.TargetedWanted++
		rc, ok := got[id]
		if !ok {
			mr.TargetedMissing++
			continue
		}
		us := (rc.At - s.T0) / 1000
		all = append(all, us)
		if rc.Replica == s.Replica {
			same = append(same, us)
		} else {
			other = append(other, us)
		}
	}
	mr.Targeted, mr.TargetedSame, mr.TargetedOther = summarize(all), summarize(same), summarize(other)

	if err := mr.checkDB(ctx, db, len(seed.patientTokens)); err != nil {
		return mr, err
	}
	return mr, nil
}

// checkDB counts the seeded patients' appointments: every booking and
// acceptance answered must be there. One the client gave up on may
// have gone through too, so only a shortfall is a loss.
func (mr *mixedResults) checkDB(ctx context.Context, db *sql.DB, warm int) error {
	rows, err := db.QueryContext(ctx, `SELECT a.status, count(*) FROM appointments a JOIN patients p ON p.id = a.patient_id
		WHERE p.email LIKE $1 GROUP BY a.status`, patientEmails)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return err
		}
		switch status {
		case "REQUESTED":
			mr.DBRequested = n
		case "ACCEPTED":
			mr.DBAccepted = n
		}
	}
	mr.WantAccept = mr.Accept.Answered
	mr.WantRequested = warm + mr.Booking.Answered - mr.Accept.Answered
	mr.Lost = max(0, warm+mr.Booking.Answered-mr.DBRequested-mr.DBAccepted) + max(0, mr.WantAccept-mr.DBAccepted)
	return rows.Err()
}

func (mr *mixedResults) print(w io.Writer, o options) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("database       %s", mr.Seed)
	p("sockets        %d patients' appointmentUpdated (%d proven live by a booking of their own), %d screens of one doctor's agendaUpdated",
		mr.Patients, mr.PatientsLive, mr.Screens)
	p("load           %.1fs: searches %d/s and bookings %d/s offered (open loop, both replicas alternately, as signed-in patients); "+
		"each booking accepted by its doctor %s after its answer; patience %s",
		mr.Duration.Seconds(), mr.SearchOffered, mr.BookOffered, o.mixed.acceptAfter, o.mixed.patience)
	p("search         %s", mr.Search)
	p("  (Cardiology within 10 km of São Paulo, first 20, distance and nextFreeSlot; latency from when each was due)")
	p("booking        %s", mr.Booking)
	if mr.OutOfSlots > 0 {
		p("  %d bookings not sent: the grid of slots ran out", mr.OutOfSlots)
	}
	p("acceptance     %s", mr.Accept)
	p("targeted       %s (target p99 < %s): acceptance sent -> its patient's socket", mr.Targeted, o.mixed.targetTargeted)
	p("  same replica %s", mr.TargetedSame)
	p("  other one    %s", mr.TargetedOther)
	p("  missing      %d of %d acceptances never reached their patient", mr.TargetedMissing, mr.TargetedWanted)
	answered := mr.Search.Answered + mr.Booking.Answered + mr.Accept.Answered
	perReq := func(d time.Duration) int64 {
		if answered == 0 {
			return 0
		}
		return d.Microseconds() / int64(answered)
	}
	p("load CPU       replicas %.1fs, PostgreSQL %.1fs, client processes %.1fs, this driver %.1fs over %.1fs; "+
		"per answered request (fan-out and sockets included): replicas %d µs + PostgreSQL %d µs",
		mr.CPUReplicas.Seconds(), mr.CPUPostgres.Seconds(), mr.CPUClients.Seconds(), mr.CPUDriver.Seconds(), mr.Duration.Seconds(),
		perReq(mr.CPUReplicas), perReq(mr.CPUPostgres))
	p("RSS under load A %s, B %s", mib(mr.RSSLoadKiB[0]), mib(mr.RSSLoadKiB[1]))
	p("appointments   of the seeded patients in the database: %d REQUESTED (answers say %d), %d ACCEPTED (answers say %d); lost %d",
		mr.DBRequested, mr.WantRequested, mr.DBAccepted, mr.WantAccept, mr.Lost)
}
