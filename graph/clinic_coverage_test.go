package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent/insuranceplan"
	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/config"
)

const (
	registerPlanOp = `mutation($in: InsurancePlanInput!) { registerInsurancePlan(input: $in) { id operator planName cardNumberMasked } }`
	planOp         = `query { insurancePlan { operator cardNumberMasked } }`
	coverageOp     = `query($id: ID!) { node(id: $id) { ... on Appointment { coverage { status detail authorization checkedAt operator } } } }`
)

// fakeOperator is the operators' coverage API, switchable between
// answering, failing and hanging.
type fakeOperator struct {
	mu    sync.Mutex
	mode  string
	hits  atomic.Int64
	cards []string
	stop  chan struct{}
}

func newFakeOperator(t *testing.T) (*fakeOperator, *httptest.Server) {
	op := &fakeOperator{mode: "covered", stop: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op.hits.Add(1)
		var body struct{ CardNumber, Operator string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		op.mu.Lock()
		op.cards = append(op.cards, body.CardNumber)
		mode := op.mode
		op.mu.Unlock()
		switch mode {
		case "covered":
			_, _ = w.Write([]byte(`{"covered": true, "authorization": "AUT-778"}`))
		case "not-covered":
			_, _ = w.Write([]byte(`{"covered": false, "reason": "carência até 2027"}`))
		case "500":
			http.Error(w, "down", http.StatusInternalServerError)
		case "hang":
			select {
			case <-op.stop:
			case <-r.Context().Done():
			}
		}
	}))
	t.Cleanup(func() { close(op.stop); srv.Close() })
	return op, srv
}

func (o *fakeOperator) set(mode string) { o.mu.Lock(); o.mode = mode; o.mu.Unlock() }

type coverageOut struct {
	Status, Detail, Operator string
	Authorization, CheckedAt *string
}

func TestCoverageCheckedAfterBooking(t *testing.T) {
	op, srv := newFakeOperator(t)
	env, clock := newClinicEnv(t, apptest.WithConfig(func(c *config.Config) {
		c.Clinic.CoverageURL = srv.URL
		c.Clinic.CoverageTimeout = 300 * time.Millisecond
	}))
	doc, _ := env.Doctor("Dr. Convênio", "Cardiology", -23.5, -46.6)
	pat, _, _ := env.Patient("Carla Cartão")
	private, _, _ := env.Patient("Paulo Particular")

	const card = "8901 2345-6789.0123"
	const digits = "8901234567890123"
	if r := env.Do(pat, registerPlanOp, map[string]any{"in": map[string]any{"operator": "Unimed", "cardNumber": "12ab"}}); r.Code() != "BAD_USER_INPUT" ||
		r.Ext("field") != "input.cardNumber" || strings.Contains(r.Errors[0].Message, "12ab") {
		t.Fatalf("bad card: %+v", r.Errors)
	}
	if r := env.Do(doc, registerPlanOp, map[string]any{"in": map[string]any{"operator": "unimed", "cardNumber": card}}); r.Code() != "FORBIDDEN" {
		t.Fatalf("doctor registering a plan: %q", r.Code())
	}
	var reg struct {
		RegisterInsurancePlan struct{ Operator, CardNumberMasked string }
	}
	env.Do(pat, registerPlanOp, map[string]any{"in": map[string]any{"operator": " Unimed ", "cardNumber": card, "planName": "Nacional"}}).Decode(t, &reg)
	if reg.RegisterInsurancePlan.Operator != "unimed" || reg.RegisterInsurancePlan.CardNumberMasked != "**** **** 0123" {
		t.Fatalf("plan %+v", reg)
	}
	var mine struct {
		InsurancePlan *struct{ CardNumberMasked string }
	}
	env.Do(private, planOp, nil).Decode(t, &mine)
	if mine.InsurancePlan != nil {
		t.Fatalf("another patient sees a plan: %+v", mine.InsurancePlan)
	}
	// The card is sealed at rest and never logged.
	plan, err := env.DB.Client.InsurancePlan.Query().Where(insuranceplan.CardLast4("0123")).Only(sysCtx())
	if err != nil || bytes.Contains(plan.CardSealed, []byte(digits)) || bytes.Contains(plan.CardSealed, []byte("0123")) {
		t.Fatalf("stored card: %v", err)
	}

	book := func(token string, offset time.Duration) (string, *coverageOut, time.Duration) {
		t.Helper()
		slot := createSlot(t, env, doc, clock.Now().Add(offset), 50)
		var out struct {
			BookAppointment struct {
				ID       string
				Coverage *coverageOut
			}
		}
		start := time.Now()
		env.Do(token, clinicBookOp, map[string]any{"slot": slot}).Decode(t, &out)
		return out.BookAppointment.ID, out.BookAppointment.Coverage, time.Since(start)
	}
	settled := func(token, id string) coverageOut {
		t.Helper()
		env.App.Clinic.Coverage.Wait()
		var out struct {
			Node struct{ Coverage *coverageOut }
		}
		env.Do(token, coverageOp, map[string]any{"id": id}).Decode(t, &out)
		if out.Node.Coverage == nil || out.Node.Coverage.CheckedAt == nil {
			t.Fatalf("coverage not settled: %+v", out.Node.Coverage)
		}
		return *out.Node.Coverage
	}

	// Covered: the booking answers UNKNOWN at once, the answer follows.
	id, cov, _ := book(pat, time.Hour)
	if cov == nil || cov.Status != "UNKNOWN" || cov.CheckedAt != nil || cov.Operator != "unimed" {
		t.Fatalf("coverage in the booking's answer: %+v", cov)
	}
	got := settled(pat, id)
	if got.Status != "COVERED" || got.Authorization == nil || *got.Authorization != "AUT-778" {
		t.Fatalf("covered: %+v", got)
	}
	if d := settled(doc, id); d.Status != "COVERED" {
		t.Fatalf("the doctor sees %+v", d)
	}
	op.mu.Lock()
	sent := op.cards[0]
	op.mu.Unlock()
	if sent != digits {
		t.Fatalf("the operator got card %q", sent)
	}

	op.set("not-covered")
	id, _, _ = book(pat, 2*time.Hour)
	if got := settled(pat, id); got.Status != "NOT_COVERED" || got.Detail != "carência até 2027" {
		t.Fatalf("not covered: %+v", got)
	}

	// No plan, no check.
	id, cov, _ = book(private, 3*time.Hour)
	if cov != nil {
		t.Fatalf("private booking has coverage %+v", cov)
	}
	if strings.Contains(env.Logs.String(), digits) || strings.Contains(env.Logs.String(), card) {
		t.Fatal("the card number is in the server log")
	}
	_ = id
}

func TestCoverageOperatorDownBookingSucceedsQuicklyAsUnknown(t *testing.T) {
	op, srv := newFakeOperator(t)
	env, clock := newClinicEnv(t, apptest.WithConfig(func(c *config.Config) {
		c.Clinic.CoverageURL = srv.URL
		c.Clinic.CoverageTimeout = 300 * time.Millisecond
		c.Clinic.CoverageAttempts = 2
		c.Clinic.CoverageBackoff = 20 * time.Millisecond
		c.Clinic.CoverageBreakerFailures = 2
		c.Clinic.CoverageBreakerOpen = time.Hour
	}))
	doc, _ := env.Doctor("Dr. Fora do Ar", "Cardiology", -23.5, -46.6)
	pat, _, _ := env.Patient("Bia")
	env.Do(pat, registerPlanOp, map[string]any{"in": map[string]any{"operator": "amil", "cardNumber": "5555444433332222"}}).Decode(t, &struct{}{})

	book := func(offset time.Duration) (string, *coverageOut, time.Duration) {
		t.Helper()
		slot := createSlot(t, env, doc, clock.Now().Add(offset), 50)
		var out struct {
			BookAppointment struct {
				ID, Status string
				Coverage   *coverageOut
			}
		}
		start := time.Now()
		env.Do(pat, clinicBookOp, map[string]any{"slot": slot}).Decode(t, &out)
		if out.BookAppointment.Status != "REQUESTED" {
			t.Fatalf("booking: %+v", out.BookAppointment)
		}
		return out.BookAppointment.ID, out.BookAppointment.Coverage, time.Since(start)
	}
	final := func(id string) coverageOut {
		t.Helper()
		env.App.Clinic.Coverage.Wait()
		var out struct {
			Node struct{ Coverage coverageOut }
		}
		env.Do(pat, coverageOp, map[string]any{"id": id}).Decode(t, &out)
		return out.Node.Coverage
	}

	// Failing (500): retried, then UNKNOWN; the booking never waited.
	op.set("500")
	id, cov, took := book(time.Hour)
	if cov.Status != "UNKNOWN" || cov.CheckedAt != nil || took > time.Second {
		t.Fatalf("booking with the operator failing: %+v in %s", cov, took)
	}
	if got := final(id); got.Status != "UNKNOWN" || got.CheckedAt == nil || !strings.Contains(got.Detail, "HTTP 500") {
		t.Fatalf("after 500s: %+v", got)
	}
	if n := op.hits.Load(); n != 2 {
		t.Fatalf("%d requests for one check, want 2 attempts", n)
	}

	// Hanging: the booking answers long before the operator would.
	op.set("hang")
	start := time.Now()
	id, cov, took = book(2 * time.Hour)
	if cov.Status != "UNKNOWN" || took > time.Second {
		t.Fatalf("booking with the operator hanging: %+v in %s", cov, took)
	}
	got := final(id)
	if got.Status != "UNKNOWN" || !strings.Contains(got.Detail, "no answer within") {
		t.Fatalf("after hanging: %+v", got)
	}
	// Two attempts of 300 ms and a pause: the check gave up in about a second.
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("the check took %s", el)
	}

	// Two failed checks opened the breaker: the next booking is settled
	// UNKNOWN in its own answer, and nobody calls the operator.
	before := op.hits.Load()
	op.set("covered")
	id, cov, _ = book(3 * time.Hour)
	if cov.Status != "UNKNOWN" || cov.CheckedAt == nil || !strings.Contains(cov.Detail, "circuit open") {
		t.Fatalf("booking with the breaker open: %+v", cov)
	}
	if got := final(id); got.Status != "UNKNOWN" || op.hits.Load() != before {
		t.Fatalf("with the breaker open: %+v after %d more requests", got, op.hits.Load()-before)
	}
}

func TestCoverageReconcilerSettlesLostChecks(t *testing.T) {
	_, srv := newFakeOperator(t)
	env, clock := newClinicEnv(t, apptest.WithConfig(func(c *config.Config) { c.Clinic.CoverageURL = srv.URL }))
	doc, _ := env.Doctor("Dr. Reconcilia", "Cardiology", -23.5, -46.6)
	pat, _, _ := env.Patient("Rita")
	env.Do(pat, registerPlanOp, map[string]any{"in": map[string]any{"operator": "sulamerica", "cardNumber": "99998888777766"}}).Decode(t, &struct{}{})
	var ids []string
	for i := 1; i <= 2; i++ {
		slot := createSlot(t, env, doc, clock.Now().Add(time.Duration(i)*time.Hour), 50)
		ids = append(ids, book(t, env, pat, slot))
	}
	env.App.Clinic.Coverage.Wait()
	// As if the server had died before asking: unsettled for two minutes.
	// The second booking was cancelled since: nobody needs its answer.
	if _, err := env.DB.SQL.Exec(`UPDATE coverage_checks SET checked_at = NULL, status = 'UNKNOWN',
		created_at = now() - interval '2 minutes'`); err != nil {
		t.Fatal(err)
	}
	if r := env.Do(pat, cancelOp, map[string]any{"id": ids[1], "r": "plans changed"}); r.Code() != "" {
		t.Fatalf("cancel: %+v", r.Errors)
	}
	n, err := env.App.Clinic.Coverage.Reconcile(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("reconciled %d (%v), want 1", n, err)
	}
	var out struct {
		Node struct{ Coverage coverageOut }
	}
	env.Do(pat, coverageOp, map[string]any{"id": ids[0]}).Decode(t, &out)
	if out.Node.Coverage.Status != "COVERED" || out.Node.Coverage.CheckedAt == nil {
		t.Fatalf("after reconciling: %+v", out.Node.Coverage)
	}
	if n, _ := env.App.Clinic.Coverage.Reconcile(context.Background()); n != 0 {
		t.Fatalf("second pass settled %d", n)
	}
}
