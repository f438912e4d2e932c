package coverage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/coveragecheck"
	"github.com/healthmed/healthmed/ent/insuranceplan"
	"github.com/healthmed/healthmed/internal/clock"
	"github.com/healthmed/healthmed/internal/envelope"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/loader"
	"github.com/healthmed/healthmed/internal/txn"
	"github.com/healthmed/healthmed/internal/validate"
	"github.com/healthmed/healthmed/internal/viewer"
)

// Defaults of a Service whose fields are left zero.
const (
	DefaultBudget      = 10 * time.Second
	DefaultConcurrency = 32
	// staleAfter is when a check still unsettled is taken up by Reconcile:
	// its goroutine was lost (a restart) or never started (too many at
	// once).
	staleAfter = time.Minute
)

// Service keeps patients' plans and settles the coverage of bookings.
//
// Why after commit: the booking transaction holds a pooled connection and
// the slot's row lock. Asking the operator inside it would hold both for
// up to the whole retry budget (seconds) on every booking while an
// operator is slow, and a burst of bookings would empty the pool. So the
// booking only writes an UNKNOWN check; once it commits a goroutine asks
// the operator (timeout, retries, breaker) and writes the answer. While
// the breaker is open the check is written settled, UNKNOWN, at once: no
// request and no goroutine at all.
type Service struct {
	Client  *ent.Client
	Checker Checker // nil: no coverage API configured
	// Breaker, when it is the checker's, lets a booking skip the check
	// while the operator is known to be down.
	Breaker *Breaker
	Keys    envelope.KeyWrapper
	Log     *slog.Logger
	// Budget bounds one whole check, retries included.
	Budget time.Duration
	// Concurrency bounds the checks in flight; more wait for Reconcile.
	Concurrency int
	Now         func() time.Time

	once sync.Once
	sem  chan struct{}

	loadOnce sync.Once
	checks   *loader.PerResponse[int, *ent.CoverageCheck]
	wg       sync.WaitGroup
}

func (s *Service) now() time.Time { return clock.UTC(s.Now) }

func (s *Service) db(ctx context.Context) *ent.Client { return txn.Client(ctx, s.Client) }

var operatorRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,49}$`)

// RegisterPlan records (or replaces) the signed-in patient's plan. The
// card number is sealed; errors never repeat it.
func (s *Service) RegisterPlan(ctx context.Context, in InsurancePlanInput) (*ent.InsurancePlan, error) {
	v := viewer.FromContext(ctx)
	op := strings.ToLower(strings.TrimSpace(in.Operator))
	if !operatorRE.MatchString(op) {
		return nil, gqlerr.BadInput("input.operator", "operator is the operator's code: letters, digits, '.', '_' or '-', at most 50")
	}
	card := strings.Map(func(r rune) rune {
		if r == ' ' || r == '.' || r == '-' {
			return -1
		}
		return r
	}, in.CardNumber)
	if len(card) < 8 || len(card) > 20 || strings.Trim(card, "0123456789") != "" {
		return nil, gqlerr.BadInput("input.cardNumber", "the card number has 8 to 20 digits")
	}
	name := ""
	if in.PlanName != nil {
		name = strings.TrimSpace(*in.PlanName)
		if utf8.RuneCountInString(name) > 100 {
			return nil, gqlerr.BadInput("input.planName", "planName has at most 100 characters")
		}
	}
	sealed, err := s.Keys.WrapKey(ctx, []byte(card), cardAAD(v.ID))
	if err != nil {
		return nil, fmt.Errorf("seal card number: %w", err)
	}
	last4 := card[len(card)-4:]
	db := s.db(ctx)
	// The privacy rule shows a patient their own plan only.
	cur, err := db.InsurancePlan.Query().Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return db.InsurancePlan.Create().SetPatientID(v.ID).SetOperator(op).SetPlanName(name).
			SetCardSealed(sealed).SetCardLast4(last4).Save(ctx)
	case err != nil:
		return nil, err
	}
	return cur.Update().SetOperator(op).SetPlanName(name).SetCardSealed(sealed).SetCardLast4(last4).Save(ctx)
}

// RemovePlan deletes the signed-in patient's plan; later bookings are
// private. It returns the removed plan's id, for clients to evict it from
// their caches, or nil when there was none.
func (s *Service) RemovePlan(ctx context.Context) (*int, error) {
	db := s.db(ctx)
	id, err := db.InsurancePlan.Query().OnlyID(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := db.InsurancePlan.DeleteOneID(id).Exec(ctx); err != nil {
		return nil, err
	}
	return &id, nil
}

// Plan is the signed-in patient's plan, or nil: the privacy rule shows a
// patient their own plan only.
func (s *Service) Plan(ctx context.Context) (*ent.InsurancePlan, error) {
	p, err := s.Client.InsurancePlan.Query().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return p, err
}

// Masked is how a card number is ever shown: its last four digits.
func Masked(p *ent.InsurancePlan) string { return "**** **** " + p.CardLast4 }

// ForAppointment is Appointment.coverage: nil when the patient had no
// plan when booking, or when the viewer may not see it.
func (s *Service) ForAppointment(ctx context.Context, a *ent.Appointment) (*ent.CoverageCheck, error) {
	// In a mutation the check may be the transaction's own, not yet
	// visible to the batch, which reads outside it.
	if ent.FromContext(ctx) == nil {
		if c, ok, err := s.batch().Load(ctx, a.ID); ok {
			return c, err
		}
	}
	c, err := s.db(ctx).CoverageCheck.Query().Where(coveragecheck.AppointmentID(a.ID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return c, err
}

// WithLoaders prepares one response's batched look-ups: a list of
// appointments asks for their coverage checks in one query.
func (s *Service) WithLoaders(ctx context.Context) context.Context { return s.batch().Install(ctx) }

// AppointmentsRead names to the response's batch the appointments a
// query has read: their coverage checks are then read together (see
// loader.Loader.Expect).
func (s *Service) AppointmentsRead(ctx context.Context, ids []int) { s.batch().Expect(ctx, ids) }

// batch reads as the viewer: privacy leaves out what they may not see,
// which then reads as no check.
func (s *Service) batch() *loader.PerResponse[int, *ent.CoverageCheck] {
	s.loadOnce.Do(func() {
		s.checks = loader.NewPerResponse(loader.ByKey(func(ctx context.Context, ids []int) ([]*ent.CoverageCheck, error) {
			return s.Client.CoverageCheck.Query().Where(coveragecheck.AppointmentIDIn(ids...)).All(ctx)
		}, func(c *ent.CoverageCheck) int { return c.AppointmentID }))
	})
	return s.checks
}

func cardAAD(patientID int) []byte {
	return fmt.Appendf(nil, "healthmed insurance card of patient %d", patientID)
}

// Booked writes, when the patient has a plan, the appointment's
// coverage check, UNKNOWN, and has it settled once the booking commits.
// It is a reaction of the Appointment schema: c is the booking's
// transaction. One statement finds the plan and writes the check (none
// without a plan): a booking is a handful of statements, and this one
// runs in each.
func Booked(ctx context.Context, c *ent.Client, a *ent.Appointment) error {
	now := c.Reactions.NowUTC()
	var checkedAt *time.Time
	var detail *string
	if why := c.Reactions.CoverageUnasked(); why != "" {
		checkedAt, detail = &now, &why
	}
	rows, err := c.QueryContext(ctx, bookedCheck, now, a.DoctorID, coveragecheck.DefaultStatus.String(),
		coveragecheck.DefaultAttempts, checkedAt, detail, a.ID, a.PatientID)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		return rows.Err()
	}
	var id int
	var settled bool
	if err := rows.Scan(&id, &settled); err != nil {
		return err
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if !settled {
		txn.AfterCommit(ctx, func() { c.Reactions.StartCoverage(id) })
	}
	return nil
}

// bookedCheck writes the check of a booking from the patient's plan; its
// names come from the generated schema.
var bookedCheck = fmt.Sprintf(`INSERT INTO %[1]s (%[2]s, %[3]s, %[4]s, %[5]s, %[6]s, %[7]s, %[8]s, %[9]s, %[10]s, %[11]s)
SELECT $1, $1, p.%[12]s, $2, p.%[13]s, $3, $4, $5, $6, $7 FROM %[14]s p WHERE p.%[12]s = $8
RETURNING %[15]s, %[9]s IS NOT NULL`,
	coveragecheck.Table, coveragecheck.FieldCreatedAt, coveragecheck.FieldUpdatedAt, coveragecheck.FieldPatientID,
	coveragecheck.FieldDoctorID, coveragecheck.FieldOperator, coveragecheck.FieldStatus, coveragecheck.FieldAttempts,
	coveragecheck.FieldCheckedAt, coveragecheck.FieldDetail, coveragecheck.FieldAppointmentID,
	insuranceplan.FieldPatientID, insuranceplan.FieldOperator, insuranceplan.Table, coveragecheck.FieldID)

// Unasked says why a new check is settled at once, without a request and
// without a goroutine: no operator is configured, or the breaker is open.
func (s *Service) Unasked() string {
	switch {
	case s.Checker == nil:
		return "no coverage API is configured"
	case s.Breaker != nil && s.Breaker.State() == "open":
		return "operator unavailable: circuit open"
	}
	return ""
}

// Start settles a check in the background, unless too many are in
// flight: then Reconcile takes it up later.
func (s *Service) Start(id int) {
	s.once.Do(func() { s.sem = make(chan struct{}, max(1, cmp.Or(s.Concurrency, DefaultConcurrency))) })
	select {
	case s.sem <- struct{}{}:
	default:
		s.Log.Warn("coverage checks saturated; left for the reconciler", "coverage_check_id", id)
		return
	}
	s.wg.Add(1)
	go func() {
		defer func() { <-s.sem; s.wg.Done() }()
		if err := s.Settle(context.Background(), id); err != nil {
			s.Log.Error("coverage check", "coverage_check_id", id, "err", err.Error())
		}
	}()
}

// Wait returns once the checks in flight are settled.
func (s *Service) Wait() { s.wg.Wait() }

// Settle asks the operator about one unsettled check and records the
// answer, or UNKNOWN with the reason when none could be had. A check
// already settled is left alone.
func (s *Service) Settle(ctx context.Context, id int) error {
	sys := viewer.SystemContext(ctx)
	chk, err := s.Client.CoverageCheck.Query().
		Where(coveragecheck.ID(id), coveragecheck.CheckedAtIsNil()).
		WithAppointment(func(q *ent.AppointmentQuery) { q.WithDoctor() }).Only(sys)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	upd := s.Client.CoverageCheck.Update().
		Where(coveragecheck.ID(id), coveragecheck.CheckedAtIsNil()).AddAttempts(1)
	res, cerr := s.ask(ctx, chk)
	switch {
	case cerr != nil:
		upd.SetStatus(coveragecheck.StatusUNKNOWN).SetDetail(clip(unavailableDetail(cerr)))
	case res.Covered:
		upd.SetStatus(coveragecheck.StatusCOVERED).SetDetail(clip(res.Reason))
		if a := strings.TrimSpace(res.Authorization); a != "" {
			upd.SetAuthorization(clipN(a, 64))
		}
	default:
		upd.SetStatus(coveragecheck.StatusNOT_COVERED).SetDetail(clip(res.Reason))
	}
	// The clock is read after the answer: checkedAt is when it came.
	return upd.SetCheckedAt(s.now()).Exec(sys)
}

func (s *Service) ask(ctx context.Context, chk *ent.CoverageCheck) (Result, error) {
	sys := viewer.SystemContext(ctx)
	plan, err := s.Client.InsurancePlan.Query().Where(insuranceplan.PatientID(chk.PatientID)).Only(sys)
	if ent.IsNotFound(err) {
		return Result{}, errors.New("the patient removed their plan")
	}
	if err != nil {
		return Result{}, err
	}
	card, err := s.Keys.UnwrapKey(ctx, plan.CardSealed, cardAAD(plan.PatientID))
	if err != nil {
		return Result{}, errors.New("the card number cannot be opened")
	}
	a := chk.Edges.Appointment
	req := Request{Operator: chk.Operator, CardNumber: string(card), ServiceDate: a.StartsAt, AmountCents: a.PriceCents}
	if d := a.Edges.Doctor; d != nil {
		req.Specialty, req.DoctorCRM = d.Specialty, validate.FormatCRM(d.CrmNumber, d.CrmState)
	}
	cctx, cancel := context.WithTimeout(ctx, cmp.Or(s.Budget, DefaultBudget))
	defer cancel()
	return s.Checker.Check(cctx, req)
}

func unavailableDetail(err error) string {
	if errors.Is(err, ErrOpen) {
		return "operator unavailable: circuit open"
	}
	return err.Error()
}

// Reconcile settles the checks left unsettled for a minute: their
// goroutine was lost to a restart, or never started. It returns how many
// it settled.
func (s *Service) Reconcile(ctx context.Context) (int, error) {
	if s.Checker == nil {
		return 0, nil
	}
	sys := viewer.SystemContext(ctx)
	ids, err := s.Client.CoverageCheck.Query().
		// created_at is written from the wall clock, whatever Now says.
		Where(coveragecheck.CheckedAtIsNil(), coveragecheck.CreatedAtLT(time.Now().Add(-staleAfter)),
			coveragecheck.HasAppointmentWith(appointment.StatusIn(appointment.StatusREQUESTED, appointment.StatusACCEPTED))).
		Order(ent.Asc(coveragecheck.FieldID)).Limit(100).IDs(sys)
	if err != nil {
		return 0, err
	}
	for i, id := range ids {
		if err := s.Settle(ctx, id); err != nil {
			return i, err
		}
	}
	return len(ids), nil
}

func clip(s string) string { return clipN(s, 200) }

func clipN(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
