package app

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/internal/agenda"
	"github.com/healthmed/healthmed/internal/billing"
	"github.com/healthmed/healthmed/internal/clock"
	"github.com/healthmed/healthmed/internal/config"
	"github.com/healthmed/healthmed/internal/coverage"
	"github.com/healthmed/healthmed/internal/reaction"
	"github.com/healthmed/healthmed/internal/record"
	"github.com/healthmed/healthmed/internal/reports"
)

// Clinic is billing, health-insurance coverage, the admin reports and
// their periodic job.
type Clinic struct {
	Billing  *billing.Service
	Coverage *coverage.Service
	Reports  *reports.Service
	interval time.Duration
	log      *slog.Logger
	// steps is what the periodic job does, in order; Build adds the
	// steps of other services.
	steps []jobStep
}

// jobStep is one part of the periodic job. Every step is safe to run on
// several replicas at once; run reports how many things it handled.
type jobStep struct {
	name string
	run  func(context.Context) (int, error)
}

func newClinic(cfg config.Config, client *ent.Client, deps *reaction.Deps, sqlDB *sql.DB, ag *agenda.Service, recs *record.Service,
	log *slog.Logger, now func() time.Time) (*Clinic, error) {
	c := cfg.Clinic
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return nil, err
	}
	cov := &coverage.Service{Client: client, Keys: recs.Keys, Log: log, Now: now,
		Budget: time.Duration(c.CoverageAttempts)*(c.CoverageTimeout+c.CoverageBackoff) + c.CoverageBackoff}
	if c.CoverageURL != "" {
		b := &coverage.Breaker{Failures: c.CoverageBreakerFailures, OpenFor: c.CoverageBreakerOpen}
		cov.Breaker = b
		cov.Checker = &coverage.HTTPChecker{BaseURL: c.CoverageURL, Token: string(c.CoverageToken),
			Client: &http.Client{}, Timeout: c.CoverageTimeout, Attempts: c.CoverageAttempts,
			Backoff: c.CoverageBackoff, Breaker: b}
	}
	deps.Coverage = cov
	bill := &billing.Service{Client: client, PublicURL: cfg.PublicURL, Location: loc, Log: log, Now: now}
	deps.AppointmentsRead = reaction.Readers{bill.AppointmentsRead, cov.AppointmentsRead}
	ag.AutoCompleteAfter = c.AutoCompleteAfter
	return &Clinic{
		Billing:  bill,
		Coverage: cov,
		Reports:  &reports.Service{DB: sqlDB, Location: loc, Now: now},
		interval: c.JobInterval,
		log:      log,
		steps: []jobStep{
			{"complete overdue appointments", func(ctx context.Context) (int, error) {
				return ag.CompleteOverdue(ctx, clock.UTC(now))
			}},
			{"settle lost coverage checks", cov.Reconcile},
			{"erase deleted record files", func(ctx context.Context) (int, error) {
				return recs.PurgeDeleted(ctx, clock.UTC(now).Add(-cfg.RecordRetention))
			}},
		},
	}, nil
}

// run is the periodic job, every JobInterval on every replica: it
// completes the accepted appointments whose meeting ended more than
// HEALTHMED_AUTOCOMPLETE_AFTER ago, issuing their invoices, settles the
// coverage checks whose background request was lost, erases the record
// files deleted more than HEALTHMED_RECORD_RETENTION ago, and whatever
// steps Build added.
func (c *Clinic) run(ctx context.Context) {
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		for _, st := range c.steps {
			n, err := st.run(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				c.log.Error(st.name, "err", err.Error(), "done", n)
			case n > 0:
				c.log.Info(st.name, "done", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
