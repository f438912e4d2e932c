package config

import (
	"errors"
	"log/slog"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Notify is the notifications' e-mail delivery.
type Notify struct {
	// Worker runs the outbox worker and the reminder scheduler in this
	// process (HEALTHMED_NOTIFY_WORKER, default true). Several replicas
	// may all run one.
	Worker bool
	// SMTPHost is the relay; empty, no e-mail is sent (the in-app list
	// and the reminders still work, and the outbox waits).
	SMTPHost string
	SMTPPort int
	// SMTPTLS is "starttls" (required, the default), "opportunistic" or
	// "implicit" (SMTPS, usually port 465).
	SMTPTLS      string
	SMTPUser     string
	SMTPPassword Secret
	// From is the sender, e.g. `healthmed <no-reply@example.com>`.
	From string
	// MaxAttempts, RetryBase and RetryMax shape the retries: the wait
	// doubles from RetryBase up to RetryMax.
	MaxAttempts int
	RetryBase   time.Duration
	RetryMax    time.Duration
	// Lease is how long a claimed message belongs to one worker.
	Lease time.Duration
	// Poll is how often the outbox is read when nothing wakes the worker.
	Poll time.Duration
}

// LogValue masks the password.
func (n Notify) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Bool("worker", n.Worker),
		slog.String("smtp_host", n.SMTPHost),
		slog.Int("smtp_port", n.SMTPPort),
		slog.String("smtp_tls", n.SMTPTLS),
		slog.String("smtp_user", n.SMTPUser),
		slog.String("smtp_password", n.SMTPPassword.String()),
		slog.String("from", n.From),
		slog.Int("max_attempts", n.MaxAttempts),
		slog.String("retry_base", n.RetryBase.String()),
		slog.String("retry_max", n.RetryMax.String()),
		slog.String("lease", n.Lease.String()),
		slog.String("poll", n.Poll.String()),
	)
}

// readNotify reads the HEALTHMED_NOTIFY_* and HEALTHMED_SMTP_* variables.
func (c *Config) readNotify(get func(key, def string) string) []error {
	var errs []error
	dur := positiveDuration(get, &errs)
	num := positiveInt(get, &errs)
	worker, err := strconv.ParseBool(get("HEALTHMED_NOTIFY_WORKER", "true"))
	if err != nil {
		errs = append(errs, errors.New("HEALTHMED_NOTIFY_WORKER: want true or false"))
	}
	host := "localhost"
	if u, err := url.Parse(c.PublicURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	n := Notify{
		Worker:       worker,
		SMTPHost:     get("HEALTHMED_SMTP_HOST", ""),
		SMTPPort:     num("HEALTHMED_SMTP_PORT", "587"),
		SMTPTLS:      strings.ToLower(get("HEALTHMED_SMTP_TLS", "starttls")),
		SMTPUser:     get("HEALTHMED_SMTP_USER", ""),
		SMTPPassword: Secret(get("HEALTHMED_SMTP_PASSWORD", "")),
		From:         get("HEALTHMED_SMTP_FROM", "healthmed <no-reply@"+host+">"),
		MaxAttempts:  num("HEALTHMED_NOTIFY_MAX_ATTEMPTS", "8"),
		RetryBase:    dur("HEALTHMED_NOTIFY_RETRY_BASE", "30s"),
		RetryMax:     dur("HEALTHMED_NOTIFY_RETRY_MAX", "1h"),
		Lease:        dur("HEALTHMED_NOTIFY_LEASE", "2m"),
		Poll:         dur("HEALTHMED_NOTIFY_POLL", "5s"),
	}
	switch n.SMTPTLS {
	case "starttls", "opportunistic", "implicit":
	default:
		errs = append(errs, errors.New(`HEALTHMED_SMTP_TLS: want "starttls", "opportunistic" or "implicit"`))
	}
	if n.SMTPPort > 65535 {
		errs = append(errs, errors.New("HEALTHMED_SMTP_PORT: want a TCP port"))
	}
	if a, err := mail.ParseAddress(n.From); err != nil || !strings.Contains(a.Address, "@") {
		errs = append(errs, errors.New("HEALTHMED_SMTP_FROM: want an address such as `healthmed <no-reply@example.com>`"))
	}
	if (n.SMTPUser == "") != (n.SMTPPassword == "") {
		errs = append(errs, errors.New("HEALTHMED_SMTP_USER and HEALTHMED_SMTP_PASSWORD go together"))
	}
	if n.Lease > 0 && n.Lease < 10*time.Second {
		errs = append(errs, errors.New("HEALTHMED_NOTIFY_LEASE: at least 10s (a send may take up to half of it)"))
	}
	c.Notify = n
	return errs
}
