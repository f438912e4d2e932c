package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
)

const (
	loginPatientOp    = `mutation($login: String!, $pw: String!) { loginPatient(login: $login, password: $pw) { token } }`
	registerPatientOp = `mutation($in: RegisterPatientInput!) { registerPatient(input: $in) { token } }`
)

// BenchmarkLoginDuringRegistrationFlood measures a patient's login, one at
// a time, first on an idle server and then while eight clients register
// new accounts as fast as the server answers them (from many addresses in
// real life; the per-address registration limit is off here, as it is in
// every apptest server). Every registration hashes a password with
// argon2id, as does every login; the hashing gate serves logins first and
// keeps a slot free for them. The target is a flood p99 within twice the
// idle p99 (p99-ratio <= 2).
//
// Each iteration is both phases of loginsPerPhase logins, whatever b.N:
// a p99 needs a couple of hundred samples to mean anything, and one
// iteration already outlasts make bench's -benchtime, so it runs once
// there. Longer runs pool every iteration's samples.
func BenchmarkLoginDuringRegistrationFlood(b *testing.B) {
	samples := loginsPerPhase(b)
	env := apptest.New(b)
	_, _, email := env.Patient("Ana")
	c := newClient(env.Server.URL, 16)
	defer c.close()
	login := body(loginPatientOp, map[string]any{"login": email, "pw": "correct horse battery"})

	measure := func(into []time.Duration) []time.Duration {
		for range samples {
			start := time.Now()
			raw, err := c.post("", login)
			if err != nil || !json.Valid(raw) || containsError(raw) {
				b.Fatalf("login: %v %s", err, raw)
			}
			into = append(into, time.Since(start))
		}
		return into
	}

	var idle, flood []time.Duration
	var registered, refused, seq atomic.Int64
	for b.Loop() {
		idle = measure(idle)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					n := seq.Add(1)
					raw, err := c.post("", body(registerPatientOp, map[string]any{"in": map[string]any{
						"name": "Flood", "email": fmt.Sprintf("flood%d@example.com", n), "cpf": apptest.CPF(),
						"password": "long enough password"}}))
					switch {
					case err == nil && !containsError(raw):
						registered.Add(1)
					default:
						refused.Add(1)
					}
				}
			})
		}
		time.Sleep(500 * time.Millisecond) // let the flood build up
		flood = measure(flood)
		close(stop)
		wg.Wait()
	}
	slices.Sort(idle)
	slices.Sort(flood)

	ip99, fp99 := percentile(idle, 99), percentile(flood, 99)
	b.ReportMetric(ms(percentile(idle, 50)), "idle-p50-ms")
	b.ReportMetric(ms(ip99), "idle-p99-ms")
	b.ReportMetric(ms(percentile(flood, 50)), "flood-p50-ms")
	b.ReportMetric(ms(fp99), "flood-p99-ms")
	b.ReportMetric(float64(fp99)/float64(ip99), "p99-ratio")
	b.Logf("%d logins each phase: idle p50 %.1f p99 %.1f ms; flood p50 %.1f p99 %.1f ms (%.2fx); "+
		"flood: %d registered, %d refused",
		len(idle), ms(percentile(idle, 50)), ms(ip99), ms(percentile(flood, 50)), ms(fp99),
		float64(fp99)/float64(ip99), registered.Load(), refused.Load())
}

// loginsPerPhase is 200, or HEALTHMED_BENCH_LOGINS for a quick check of
// the benchmark itself (its p99 then means little).
func loginsPerPhase(b *testing.B) int {
	v := os.Getenv("HEALTHMED_BENCH_LOGINS")
	if v == "" {
		return 200
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("HEALTHMED_BENCH_LOGINS=%q: want a positive count", v)
	}
	return n
}

func containsError(raw []byte) bool {
	var out struct {
		Errors []gqlError `json:"errors"`
	}
	return json.Unmarshal(raw, &out) != nil || len(out.Errors) > 0
}
