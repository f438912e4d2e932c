package bench

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/bench/workload"
)

// abRounds is how many 2-second closed loops each server runs.
const abRounds = 12

// TestSearchAB compares two server binaries' CPU per search under the
// same conditions: HEALTHMED_BENCH_AB names them, "old,new". Each runs on
// its own copy of the 200,000-doctor database, and their closed loops
// alternate every 2 seconds, so a spell of this shared machine's
// slowness falls on both (runs a minute apart differ by up to a third).
// HEALTHMED_BENCH_AB_SLOT=1 measures the search with nextFreeSlot. Swap
// the two names for a second run: the two copies of the database are
// not always equally fast.
func TestSearchAB(t *testing.T) {
	names := strings.Split(os.Getenv("HEALTHMED_BENCH_AB"), ",")
	if len(names) != 2 {
		t.Skip("set HEALTHMED_BENCH_AB=old-binary,new-binary to compare two servers")
	}
	base := os.Getenv("HEALTHMED_TEST_DATABASE_URL")
	if base == "" {
		t.Skip("HEALTHMED_TEST_DATABASE_URL not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	payload := body(workload.SearchOp, workload.SearchVars())
	if os.Getenv("HEALTHMED_BENCH_AB_SLOT") != "" {
		payload = body(workload.SearchNextFreeOp, workload.SearchVars())
	}
	type side struct {
		bin     string
		m       *meter
		lc      *loadClient
		srv, pg time.Duration
		n       int
	}
	var sides []*side
	for i, bin := range names {
		t.Setenv("HEALTHMED_BENCH_SERVER", bin)
		dbName := []string{"hmsearchab_old", "hmsearchab_new"}[i]
		rig := startSearchRig(ctx, t, base, dbName, []string{"127.0.0.1:18283", "127.0.0.1:18284"}[i])
		s := &side{bin: bin, m: rig.meter(),
			lc: newLoadClient("http://"+rig.addr+"/graphql", 2*time.Second)}
		warmPool(ctx, s.lc, payload)
		sides = append(sides, s)
	}
	for i := range abRounds {
		for j := range sides {
			s := sides[(i+j)%2]
			before := s.m.read(ctx)
			n, _ := closedLoop(ctx, s.lc, payload, 4, 2*time.Second)
			after := s.m.read(ctx)
			s.srv += after.server - before.server
			s.pg += after.pgTotal(before)
			s.n += n
		}
	}
	for _, s := range sides {
		t.Logf("%s: server %d µs + PostgreSQL %d µs per search (%d searches)", s.bin, perOp(s.srv, s.n), perOp(s.pg, s.n), s.n)
	}
}
