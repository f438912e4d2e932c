package bench

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
)

// BenchmarkRegistrationNewVsTaken times registerPatient, one at a time,
// alternating a new e-mail and CPF with an e-mail and a CPF that already
// have an account (argon2id hash included in both), and reports each
// kind's median and p90 and their ratio. Both answer the same; the
// target is a ratio within noise (0.9 to 1.1).
func BenchmarkRegistrationNewVsTaken(b *testing.B) {
	env := apptest.New(b)
	_, ownerCPF, ownerEmail := env.Patient("Dona")
	c := newClient(env.Server.URL, 4)
	defer c.close()
	var seq atomic.Int64
	samples := max(40, b.N)
	register := func(email, cpf string) time.Duration {
		start := time.Now()
		raw, err := c.post("", body(registerPatientOp, map[string]any{"in": map[string]any{
			"name": "Bench", "email": email, "cpf": cpf, "password": "long enough password"}}))
		d := time.Since(start)
		if err != nil || containsError(raw) {
			b.Fatalf("register: %v %s", err, raw)
		}
		return d
	}
	b.ResetTimer()
	var fresh, taken []time.Duration
	for i := range 2 * samples {
		if i%2 == 0 {
			n := seq.Add(1)
			fresh = append(fresh, register(fmt.Sprintf("bench%d@example.com", n), apptest.CPF()))
		} else {
			taken = append(taken, register(ownerEmail, ownerCPF))
		}
	}
	b.StopTimer()
	slices.Sort(fresh)
	slices.Sort(taken)
	b.ReportMetric(ms(percentile(fresh, 50)), "new-p50-ms")
	b.ReportMetric(ms(percentile(taken, 50)), "taken-p50-ms")
	b.ReportMetric(ms(percentile(fresh, 90)), "new-p90-ms")
	b.ReportMetric(ms(percentile(taken, 90)), "taken-p90-ms")
	b.ReportMetric(float64(percentile(taken, 50))/float64(percentile(fresh, 50)), "p50-ratio")
	b.Logf("%d each: new p50 %.1f p90 %.1f ms; taken p50 %.1f p90 %.1f ms (p50 ratio %.3f)", samples,
		ms(percentile(fresh, 50)), ms(percentile(fresh, 90)), ms(percentile(taken, 50)), ms(percentile(taken, 90)),
		float64(percentile(taken, 50))/float64(percentile(fresh, 50)))
}
