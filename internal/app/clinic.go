package app

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/event"
	"github.com/healthmed/healthmed/internal/agenda"
	"github.com/healthmed/healthmed/internal/billing"
	"github.com/healthmed/healthmed/internal/clock"
	"github.com/healthmed/healthmed/internal/config"
	"github.com/healthmed/healthmed/internal/coverage"
	"github.com/healthmed/healthmed/internal/record"
	"github.com/healthmed/healthmed/internal/reports"
)

// Clinic is billing, health-insurance coverage, the admin reports and
// their periodic job.
type Clinic struct {
	Billing      *billing.Service
	Coverage     *coverage.Service
	Reports      *reports.Service
	AutoComplete *billing.AutoCompleter
	interval     time.Duration
	log          *slog.Logger
	// The job also erases the record files deleted longer than retention
	// ago.
	records   *record.Service
	retention time.Duration
	now       func() time.Time
}

func newClinic(cfg config.Config, client *ent.Client, sqlDB *sql.DB, ag *agenda.Service, recs *record.Service,
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
	bill := &billing.Service{Client: client, PublicURL: cfg.PublicURL, Location: loc, Log: log, Now: now}
	// Bookings and completions reach billing and coverage through the
	// agenda's change log, inside their transactions.
	ag.Events = clinicEvents{Events: ag.Events, billing: bill, coverage: cov}
	return &Clinic{
		Billing:  bill,
		Coverage: cov,
		Reports:  &reports.Service{DB: sqlDB, Location: loc, Now: now},
		AutoComplete: &billing.AutoCompleter{Client: client, Events: ag.Events,
			After: c.AutoCompleteAfter, Log: log},
		interval:  c.JobInterval,
		log:       log,
		records:   recs,
		retention: cfg.RecordRetention,
		now:       now,
	}, nil
}

// clinicEvents issues the invoice when an appointment is completed and
// writes the coverage check when one is booked, in the change's own
// transaction, before passing the change on.
type clinicEvents struct {
	agenda.Events
	billing  *billing.Service
	coverage *coverage.Service
}

func (e clinicEvents) Appointment(ctx context.Context, kind event.Kind, a *ent.Appointment) error {
	var err error
	switch kind {
	case event.KindBOOKING_REQUESTED:
		err = e.coverage.Booked(ctx, a)
	case event.KindBOOKING_COMPLETED:
		err = e.billing.Completed(ctx, a)
	}
	if err != nil {
		return err
	}
	return e.Events.Appointment(ctx, kind, a)
}

// run is the periodic job, every JobInterval on every replica (each step
// is safe to run concurrently): it completes the accepted appointments
// whose meeting ended more than HEALTHMED_AUTOCOMPLETE_AFTER ago, issuing
// their invoices, settles the coverage checks whose background request
// was lost, and erases the record files deleted more than
// HEALTHMED_RECORD_RETENTION ago.
func (c *Clinic) run(ctx context.Context) {
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		if _, err := c.AutoComplete.CompleteOverdue(ctx, time.Now()); err != nil && ctx.Err() == nil {
			c.log.Error("auto-complete appointments", "err", err.Error())
		}
		if _, err := c.Coverage.Reconcile(ctx); err != nil && ctx.Err() == nil {
			c.log.Error("reconcile coverage checks", "err", err.Error())
		}
		if n, err := c.records.PurgeDeleted(ctx, clock.UTC(c.now).Add(-c.retention)); err != nil && ctx.Err() == nil {
			c.log.Error("erase deleted record files", "err", err.Error(), "erased", n)
		} else if n > 0 {
			c.log.Info("erased deleted record files", "erased", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
