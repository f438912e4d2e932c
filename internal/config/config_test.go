package config

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestSecretsAreMaskedInLogs(t *testing.T) {
	c, err := FromEnv(env(map[string]string{
		"DATABASE_URL":          "postgres://app:s3cr3t-pw@db:5432/healthmed",
		"HEALTHMED_SIGNING_KEY": "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMG\n-----END PRIVATE KEY-----",
		"HEALTHMED_RECORD_KEK":  "a2V5LWVuY3J5cHRpb24ta2V5LW9mLTMyLWJ5dGVzISE=",
		"HEALTHMED_LINK_SECRET": "link-secret-of-at-least-32-characters",
	}))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("configuration", "config", c)
	out := buf.String()
	for _, secret := range []string{"s3cr3t-pw", "MIGHAgEAMBMG", "BEGIN PRIVATE KEY", "a2V5LWVuY3J5", "link-secret"} {
		if strings.Contains(out, secret) {
			t.Fatalf("log line leaks %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, `"token_ttl":"15m0s"`) || !strings.Contains(out, "app:xxxxx@db") {
		t.Fatalf("log line lacks the masked settings: %s", out)
	}
}

func TestFromEnvRejectsBadValues(t *testing.T) {
	cases := map[string]map[string]string{
		"no signing key outside dev": {},
		"bad duration":               {"HEALTHMED_DEV": "true", "HEALTHMED_TOKEN_TTL": "soon"},
		"bad bool":                   {"HEALTHMED_DEV": "maybe"},
		"oidc without audience":      {"HEALTHMED_DEV": "true", "HEALTHMED_OIDC_ISSUER": "https://idp.example.com"},
		"slot horizon of 0 months":   {"HEALTHMED_DEV": "true", "HEALTHMED_SLOT_HORIZON_MONTHS": "0"},
		"slot horizon of 61 months":  {"HEALTHMED_DEV": "true", "HEALTHMED_SLOT_HORIZON_MONTHS": "61"},
		"refresh reuse of an hour":   {"HEALTHMED_DEV": "true", "HEALTHMED_REFRESH_REUSE_WINDOW": "1h"},
		"negative refresh reuse":     {"HEALTHMED_DEV": "true", "HEALTHMED_REFRESH_REUSE_WINDOW": "-1s"},
		"negative heap floor":        {"HEALTHMED_DEV": "true", "HEALTHMED_HEAP_FLOOR_MIB": "-1"},
		"heap floor not a number":    {"HEALTHMED_DEV": "true", "HEALTHMED_HEAP_FLOOR_MIB": "64MiB"},
		"negative search limit":      {"HEALTHMED_DEV": "true", "HEALTHMED_SEARCH_PER_MINUTE": "-5"},
	}
	for name, m := range cases {
		if _, err := FromEnv(env(m)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if c, err := FromEnv(env(map[string]string{"HEALTHMED_DEV": "true", "HEALTHMED_HEAP_FLOOR_MIB": "0"})); err != nil || c.Load.HeapFloorMiB != 0 {
		t.Fatalf("a heap floor of 0 (GOGC alone): %d, %v", c.Load.HeapFloorMiB, err)
	}
	c, err := FromEnv(env(map[string]string{"HEALTHMED_DEV": "true", "HEALTHMED_ALLOWED_ORIGINS": "https://a.example, https://b.example"}))
	if err != nil || len(c.AllowedOrigins) != 2 || c.TokenTTL != 15*time.Minute || c.SlotHorizonMonths != 12 ||
		c.RefreshReuseWindow != 30*time.Second || c.Load.HeapFloorMiB != 64 {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
}
