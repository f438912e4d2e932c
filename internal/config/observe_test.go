package config

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestObservabilitySettings(t *testing.T) {
	base := map[string]string{"HEALTHMED_DEV": "true"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		name          string
		env           map[string]string
		metrics, otlp string
	}{
		{"defaults: metrics on, no tracing", with(), "on", ""},
		{"metrics off", with("HEALTHMED_METRICS", "off"), "off", ""},
		{"metrics on a port of their own", with("HEALTHMED_METRICS", ":9090"), ":9090", ""},
		{"our endpoint", with("HEALTHMED_OTLP_ENDPOINT", "http://collector:4318/"), "on", "http://collector:4318/v1/traces"},
		{"the standard endpoint", with("OTEL_EXPORTER_OTLP_ENDPOINT", "https://otlp.example.com"), "on", "https://otlp.example.com/v1/traces"},
		{"a base with a path and a query", with("HEALTHMED_OTLP_ENDPOINT", "https://gw.example.com/otlp/?tenant=a"), "on", "https://gw.example.com/otlp/v1/traces?tenant=a"},
		{"the standard traces endpoint wins over the base", with("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318",
			"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://b:4318/custom/traces"), "on", "http://b:4318/custom/traces"},
		{"ours wins over the standard", with("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318",
			"HEALTHMED_OTLP_ENDPOINT", "http://c:4318"), "on", "http://c:4318/v1/traces"},
		{"the SDK switched off", with("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318", "OTEL_SDK_DISABLED", "true"), "on", ""},
	}
	for _, c := range cases {
		cfg, err := FromEnv(env(c.env))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if cfg.Metrics != c.metrics || cfg.OTLPTracesURL != c.otlp {
			t.Errorf("%s: metrics %q otlp %q, want %q %q", c.name, cfg.Metrics, cfg.OTLPTracesURL, c.metrics, c.otlp)
		}
	}
	for name, m := range map[string]map[string]string{
		"metrics maybe":    with("HEALTHMED_METRICS", "maybe"),
		"otlp over grpc":   with("HEALTHMED_OTLP_ENDPOINT", "collector:4317"),
		"otlp not a url":   with("OTEL_EXPORTER_OTLP_ENDPOINT", "://"),
		"otlp other proto": with("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://collector/v1/traces"),
	} {
		if _, err := FromEnv(env(m)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestOTLPEndpointCredentialsAreMaskedInLogs(t *testing.T) {
	c, err := FromEnv(env(map[string]string{
		"HEALTHMED_DEV":           "true",
		"HEALTHMED_OTLP_ENDPOINT": "https://tenant:otlp-pass-123@otlp.example.com?api_key=otlp-key-456",
	}))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("configuration", "config", c)
	out := buf.String()
	for _, secret := range []string{"otlp-pass-123", "otlp-key-456", "tenant"} {
		if strings.Contains(out, secret) {
			t.Fatalf("log line leaks %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, `"otlp_traces_url":"https://otlp.example.com/v1/traces"`) || !strings.Contains(out, `"metrics":"on"`) {
		t.Fatalf("log line lacks the settings: %s", out)
	}
}
