package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestNotifyConfiguration(t *testing.T) {
	dev := func(m map[string]string) func(string) (string, bool) {
		m["HEALTHMED_DEV"] = "true"
		return env(m)
	}
	c, err := FromEnv(dev(map[string]string{"HEALTHMED_PUBLIC_URL": "https://api.healthmed.example",
		"HEALTHMED_SMTP_HOST": "smtp.example.com", "HEALTHMED_SMTP_USER": "u", "HEALTHMED_SMTP_PASSWORD": "smtp-secret-9"}))
	if err != nil {
		t.Fatal(err)
	}
	n := c.Notify
	if !n.Worker || n.SMTPPort != 587 || n.SMTPTLS != "starttls" || n.From != "healthmed <no-reply@api.healthmed.example>" ||
		n.MaxAttempts != 8 || n.Lease != 2*time.Minute {
		t.Fatalf("defaults: %+v", n)
	}
	var b strings.Builder
	slog.New(slog.NewJSONHandler(&b, nil)).Info("configuration", "config", c)
	if strings.Contains(b.String(), "smtp-secret-9") || !strings.Contains(b.String(), `"smtp_host":"smtp.example.com"`) {
		t.Fatalf("log line: %s", b.String())
	}
	for name, m := range map[string]map[string]string{
		"tls mode":      {"HEALTHMED_SMTP_TLS": "sometimes"},
		"from":          {"HEALTHMED_SMTP_FROM": "not an address"},
		"user only":     {"HEALTHMED_SMTP_USER": "u"},
		"port":          {"HEALTHMED_SMTP_PORT": "70000"},
		"short lease":   {"HEALTHMED_NOTIFY_LEASE": "1s"},
		"attempts":      {"HEALTHMED_NOTIFY_MAX_ATTEMPTS": "0"},
		"worker switch": {"HEALTHMED_NOTIFY_WORKER": "perhaps"},
	} {
		if _, err := FromEnv(dev(m)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
