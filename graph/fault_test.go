package graph_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/internal/apptest"
)

func ready(t *testing.T, env *apptest.Env) int {
	t.Helper()
	res, err := http.Get(env.Server.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func waitReady(t *testing.T, env *apptest.Env, want int) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < 30*time.Second {
		if ready(t, env) == want {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("/readyz never answered %d", want)
	return 0
}

// The database goes away while patients book, then comes back: the server
// says it is not ready, answers with clean errors meanwhile, recovers by
// itself, and every booking it acknowledged is in the database.
func TestDatabaseOutageDuringBookings(t *testing.T) {
	direct := apptest.New(t, apptest.Unthrottled())
	proxy := apptest.NewProxy(t, direct.DB.URL)
	env := direct.Behind(t, proxy)
	doc, _ := direct.Doctor("Dr. Outage", "Cardiology", -23.5, -46.6)
	const patients, perPatient = 8, 30
	var slots [patients][perPatient]string
	for p := 0; p < patients; p++ {
		var in []any
		for i := 0; i < perPatient; i++ {
			in = append(in, slotAt(tomorrowAt(0).Add(time.Duration(p*perPatient+i)*15*time.Minute), 15))
		}
		var out struct{ CreateSlots []struct{ ID string } }
		direct.Do(doc, createSlotsOp, map[string]any{"in": in}).Decode(t, &out)
		for i, s := range out.CreateSlots {
			slots[p][i] = s.ID
		}
	}
	tokens := make([]string, patients)
	for p := range tokens {
		tokens[p] = direct.PatientToken(t, fmt.Sprintf("P%d", p))
	}

	var acked sync.Map
	var okCount, failCount atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for p := 0; p < patients; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for i := 0; i < perPatient; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r := env.Do(tokens[p], bookOp, map[string]any{"slot": slots[p][i]})
				var out struct{ BookAppointment *struct{ ID string } }
				if r.Code() == "" {
					r.Decode(t, &out)
					acked.Store(out.BookAppointment.ID, true)
					okCount.Add(1)
				} else {
					if c := r.Code(); c != "INTERNAL" && c != "CONFLICT" {
						t.Errorf("unclean error during the outage: %+v", r.Errors)
					}
					failCount.Add(1)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}(p)
	}
	time.Sleep(200 * time.Millisecond)
	proxy.Cut()
	notReadyAfter := waitReady(t, env, http.StatusServiceUnavailable)
	time.Sleep(500 * time.Millisecond)
	proxy.Restore()
	recovered := waitReady(t, env, http.StatusOK)
	wg.Wait()
	close(stop)

	// Every acknowledged booking is in the database, read directly.
	n := 0
	acked.Range(func(k, _ any) bool {
		id, _ := strconv.Atoi(k.(string))
		ok, err := direct.DB.Client.Appointment.Query().Where(appointment.ID(id)).Exist(sysCtx())
		if err != nil || !ok {
			t.Errorf("acknowledged booking %s is not in the database (err %v)", k, err)
		}
		n++
		return true
	})
	if okCount.Load() == 0 || failCount.Load() == 0 {
		t.Fatalf("%d bookings acknowledged, %d refused: the outage did not overlap the bookings", okCount.Load(), failCount.Load())
	}
	// After recovery the same server books again.
	late := createSlot(t, direct, doc, tomorrowAt(0).Add(80*time.Hour), 15)
	book(t, env, tokens[0], late)
	t.Logf("%d acknowledged and verified, %d failed cleanly; not ready after %v, ready again %v after restore",
		n, failCount.Load(), notReadyAfter, recovered)
}

func TestBurstOfAThousandRequests(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled())
	env.Doctor("Dr. Burst", "Cardiology", -23.55, -46.63)
	const n = 1000
	var wg sync.WaitGroup
	outcomes := make([]string, n)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 200, MaxConnsPerHost: 0}, Timeout: 60 * time.Second}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			outcomes[i] = burstOne(client, env.Server.URL)
		}(i)
	}
	wg.Wait()
	counts := map[string]int{}
	for _, o := range outcomes {
		counts[o]++
	}
	for o := range counts {
		if o != "ok" && o != "INTERNAL" && o != "RATE_LIMITED" {
			t.Fatalf("unclean outcomes: %v", counts)
		}
	}
	if counts["ok"] < n/2 {
		t.Fatalf("only %d of %d answered: %v", counts["ok"], n, counts)
	}
	if ready(t, env) != 200 {
		t.Fatal("server not ready after the burst")
	}
	t.Logf("burst outcomes: %v", counts)
}

func burstOne(c *http.Client, base string) string {
	body := `{"query":"{ doctors(near: {lat: -23.55, lng: -46.63}, withinKm: 10, first: 5) { edges { node { name distanceKm } } } }"}`
	res, err := c.Post(base+"/graphql", "application/json", stringsReader(body))
	if err != nil {
		return "transport: " + err.Error()
	}
	defer res.Body.Close()
	var out apptest.Response
	if err := decodeJSON(res, &out); err != nil {
		return fmt.Sprintf("status %d, not JSON", res.StatusCode)
	}
	if len(out.Errors) == 0 {
		return "ok"
	}
	return out.Code()
}

// A request in flight when shutdown begins still gets its answer.
func TestGracefulShutdownDrainsInFlightRequests(t *testing.T) {
	env := apptest.New(t)
	doc, _ := env.Doctor("Dr. Drain", "Cardiology", -23.5, -46.6)
	pat, _, _ := env.Patient("Dora")
	slot := createSlot(t, env, doc, tomorrowAt(11), 30)
	srv := &http.Server{Handler: env.App.Handler}
	srv.RegisterOnShutdown(env.App.Shutdown)
	ln := listen(t)
	go srv.Serve(ln) //nolint:errcheck
	base := "http://" + ln.Addr().String()

	// Hold the slot's row so the booking waits inside its transaction.
	tx, err := env.DB.SQL.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`SELECT id FROM slots WHERE id = $1 FOR UPDATE`, slot); err != nil {
		t.Fatal(err)
	}
	done := make(chan apptest.Response, 1)
	go func() { done <- postAs(t, base, pat, bookOp, map[string]any{"slot": slot}) }()
	time.Sleep(300 * time.Millisecond)
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- srv.Shutdown(ctx)
	}()
	time.Sleep(300 * time.Millisecond)
	select {
	case err := <-shut:
		t.Fatalf("shutdown returned (%v) with a request in flight", err)
	default:
	}
	tx.Rollback() //nolint:errcheck
	r := <-done
	if r.Code() != "" {
		t.Fatalf("in-flight booking: %+v", r.Errors)
	}
	if err := <-shut; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("still accepting after shutdown")
	}
}
