package config

import (
	"errors"
	"net"
	"net/url"
	"strings"
)

// otlpTracesURL reads where traces go, as the OpenTelemetry variables
// say: HEALTHMED_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT are a
// collector's base URL (traces at /v1/traces under it),
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT the full URL. OTEL_SDK_DISABLED=true
// turns tracing off whatever the others say.
func otlpTracesURL(get func(key, def string) string) string {
	if strings.EqualFold(get("OTEL_SDK_DISABLED", ""), "true") {
		return ""
	}
	if base := get("HEALTHMED_OTLP_ENDPOINT", ""); base != "" {
		return tracesUnder(base)
	}
	if full := get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", ""); full != "" {
		return full
	}
	if base := get("OTEL_EXPORTER_OTLP_ENDPOINT", ""); base != "" {
		return tracesUnder(base)
	}
	return ""
}

// tracesUnder appends the OTLP traces path to a base URL's path.
func tracesUnder(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		// Refused by observeErrors.
		return base
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/v1/traces"
	u.RawPath = ""
	return u.String()
}

func (c Config) observeErrors() []error {
	var errs []error
	switch c.Metrics {
	case "on", "off":
	default:
		if _, _, err := net.SplitHostPort(c.Metrics); err != nil {
			errs = append(errs, errors.New(`HEALTHMED_METRICS: want "on", "off" or a listen address such as ":9090"`))
		}
	}
	if c.OTLPTracesURL != "" {
		u, err := url.Parse(c.OTLPTracesURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, errors.New("OTLP endpoint: want an http(s) URL such as http://otel-collector:4318 (OTLP over HTTP)"))
		}
	}
	return errs
}

// redactURL keeps a URL's scheme, host and path for the log: credentials
// and query parameters stay out.
func redactURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return "***"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}
