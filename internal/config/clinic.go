package config

import (
	"errors"
	"log/slog"
	"net/url"
	"time"
)

// Clinic is the billing, health-insurance and reporting settings.
type Clinic struct {
	// Timezone is the clinic's IANA zone: report months are its months.
	Timezone string
	// CoverageURL is the base URL of the operators' coverage API; empty,
	// no operator is asked and a booking with a plan stays UNKNOWN.
	CoverageURL   string
	CoverageToken Secret
	// CoverageTimeout bounds one request; CoverageAttempts requests at
	// most are made per check, CoverageBackoff apart (doubling, jittered).
	CoverageTimeout  time.Duration
	CoverageAttempts int
	CoverageBackoff  time.Duration
	// After CoverageBreakerFailures failed checks in a row the breaker
	// opens: for CoverageBreakerOpen no request is made and bookings are
	// recorded UNKNOWN at once.
	CoverageBreakerFailures int
	CoverageBreakerOpen     time.Duration
	// AutoCompleteAfter is how long after its meeting ended an accepted
	// appointment is completed by the server (which issues its invoice);
	// JobInterval is how often that job runs.
	AutoCompleteAfter time.Duration
	JobInterval       time.Duration
}

func clinicFromEnv(get func(key, def string) string) (Clinic, []error) {
	var errs []error
	dur := positiveDuration(get, &errs)
	num := positiveInt(get, &errs)
	c := Clinic{
		Timezone:                get("HEALTHMED_CLINIC_TIMEZONE", "America/Sao_Paulo"),
		CoverageURL:             get("HEALTHMED_COVERAGE_URL", ""),
		CoverageToken:           Secret(get("HEALTHMED_COVERAGE_TOKEN", "")),
		CoverageTimeout:         dur("HEALTHMED_COVERAGE_TIMEOUT", "2s"),
		CoverageAttempts:        num("HEALTHMED_COVERAGE_ATTEMPTS", "3"),
		CoverageBackoff:         dur("HEALTHMED_COVERAGE_BACKOFF", "200ms"),
		CoverageBreakerFailures: num("HEALTHMED_COVERAGE_BREAKER_FAILURES", "5"),
		CoverageBreakerOpen:     dur("HEALTHMED_COVERAGE_BREAKER_OPEN", "30s"),
		AutoCompleteAfter:       dur("HEALTHMED_AUTOCOMPLETE_AFTER", "24h"),
		JobInterval:             dur("HEALTHMED_CLINIC_JOB_INTERVAL", "5m"),
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		errs = append(errs, errors.New("HEALTHMED_CLINIC_TIMEZONE: want an IANA zone such as America/Sao_Paulo"))
	}
	if c.CoverageURL != "" {
		u, err := url.Parse(c.CoverageURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, errors.New("HEALTHMED_COVERAGE_URL: want an http(s) URL"))
		}
	}
	if c.CoverageAttempts > 10 {
		errs = append(errs, errors.New("HEALTHMED_COVERAGE_ATTEMPTS: at most 10"))
	}
	return c, errs
}

// LogValue renders the clinic settings, the API token masked.
func (c Clinic) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("timezone", c.Timezone),
		slog.String("coverage_url", redactURL(c.CoverageURL)),
		slog.String("coverage_token", c.CoverageToken.String()),
		slog.String("coverage_timeout", c.CoverageTimeout.String()),
		slog.Int("coverage_attempts", c.CoverageAttempts),
		slog.String("autocomplete_after", c.AutoCompleteAfter.String()),
		slog.String("job_interval", c.JobInterval.String()),
	)
}
