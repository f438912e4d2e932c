// Package config reads the whole server configuration from the environment
// into one typed struct, so every setting is visible in one place and
// secrets are masked wherever the struct is logged.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Secret is a string that never prints itself.
type Secret string

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "***"
}

// LogValue keeps secrets out of structured logs.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// DatabaseURL is a connection string whose password is masked in logs.
type DatabaseURL string

func (d DatabaseURL) String() string {
	u, err := url.Parse(string(d))
	if err != nil || u.User == nil {
		if err != nil {
			return "***"
		}
		return string(d)
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

func (d DatabaseURL) LogValue() slog.Value { return slog.StringValue(d.String()) }

// OIDC describes one external identity provider whose tokens are accepted
// besides the server's own.
type OIDC struct {
	Issuer        string
	Audience      string
	RoleClaim     string
	IdentityClaim string
}

// Config is everything the server reads from its environment.
type Config struct {
	// Dev turns on the GraphQL IDE, introspection, generated keys and any
	// origin; it must be off in production.
	Dev           bool
	ListenAddr    string
	DatabaseURL   DatabaseURL
	DBMaxConns    int
	PublicURL     string
	TokenAudience string
	TokenTTL      time.Duration
	// SigningKey is a PEM ECDSA P-256 key; in dev mode a key is generated
	// once and kept in DataDir when it is empty.
	SigningKey      Secret
	DataDir         string
	ExternalOIDC    OIDC
	AllowedOrigins  []string
	ShutdownTimeout time.Duration
	// JitsiURL is the Jitsi Meet deployment for consultations.
	JitsiURL        string
	MeetingDuration time.Duration
	// JitsiAppID and JitsiAppSecret turn on signed meeting links for a
	// deployment with token authentication.
	JitsiAppID     string
	JitsiAppSecret Secret
}

// FromEnv reads the configuration. lookup is os.LookupEnv in production and
// a map in tests.
func FromEnv(lookup func(string) (string, bool)) (Config, error) {
	get := func(key, def string) string {
		if v, ok := lookup(key); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	var errs []error
	dur := func(key, def string) time.Duration {
		d, err := time.ParseDuration(get(key, def))
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s: want a positive duration such as %q", key, def))
		}
		return d
	}
	num := func(key, def string) int {
		n, err := strconv.Atoi(get(key, def))
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("%s: want a positive integer", key))
		}
		return n
	}
	dev, err := strconv.ParseBool(get("HEALTHMED_DEV", "false"))
	if err != nil {
		errs = append(errs, errors.New("HEALTHMED_DEV: want true or false"))
	}
	c := Config{
		Dev:             dev,
		ListenAddr:      get("HEALTHMED_LISTEN_ADDR", "127.0.0.1:8080"),
		DatabaseURL:     DatabaseURL(get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/healthmed?sslmode=disable")),
		DBMaxConns:      num("HEALTHMED_DB_MAX_CONNS", "20"),
		TokenAudience:   get("HEALTHMED_TOKEN_AUDIENCE", "healthmed"),
		TokenTTL:        dur("HEALTHMED_TOKEN_TTL", "15m"),
		SigningKey:      Secret(get("HEALTHMED_SIGNING_KEY", "")),
		DataDir:         get("HEALTHMED_DATA_DIR", "data"),
		ShutdownTimeout: dur("HEALTHMED_SHUTDOWN_TIMEOUT", "20s"),
		JitsiURL:        get("HEALTHMED_JITSI_URL", "https://meet.jit.si"),
		MeetingDuration: dur("HEALTHMED_MEETING_DURATION", "50m"),
		JitsiAppID:      get("HEALTHMED_JITSI_APP_ID", ""),
		JitsiAppSecret:  Secret(get("HEALTHMED_JITSI_APP_SECRET", "")),
		ExternalOIDC: OIDC{
			Issuer:        get("HEALTHMED_OIDC_ISSUER", ""),
			Audience:      get("HEALTHMED_OIDC_AUDIENCE", ""),
			RoleClaim:     get("HEALTHMED_OIDC_ROLE_CLAIM", "healthmed_role"),
			IdentityClaim: get("HEALTHMED_OIDC_IDENTITY_CLAIM", "email"),
		},
	}
	c.PublicURL = strings.TrimRight(get("HEALTHMED_PUBLIC_URL", "http://"+c.ListenAddr), "/")
	if o := get("HEALTHMED_ALLOWED_ORIGINS", ""); o != "" {
		for _, s := range strings.Split(o, ",") {
			if s = strings.TrimSpace(s); s != "" {
				c.AllowedOrigins = append(c.AllowedOrigins, s)
			}
		}
	}
	if c.ExternalOIDC.Issuer != "" && c.ExternalOIDC.Audience == "" {
		errs = append(errs, errors.New("HEALTHMED_OIDC_AUDIENCE: required when HEALTHMED_OIDC_ISSUER is set"))
	}
	if (c.JitsiAppID == "") != (c.JitsiAppSecret == "") {
		errs = append(errs, errors.New("HEALTHMED_JITSI_APP_ID and HEALTHMED_JITSI_APP_SECRET go together"))
	}
	if !c.Dev && c.SigningKey == "" {
		errs = append(errs, errors.New("HEALTHMED_SIGNING_KEY: required outside dev mode"))
	}
	return c, errors.Join(errs...)
}

// FromOS reads the process environment.
func FromOS() (Config, error) { return FromEnv(os.LookupEnv) }

// LogValue renders the configuration for the start-up log line: durations
// readable, secrets masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Bool("dev", c.Dev),
		slog.String("listen_addr", c.ListenAddr),
		slog.String("database_url", c.DatabaseURL.String()),
		slog.Int("db_max_conns", c.DBMaxConns),
		slog.String("public_url", c.PublicURL),
		slog.String("token_audience", c.TokenAudience),
		slog.String("token_ttl", c.TokenTTL.String()),
		slog.String("signing_key", c.SigningKey.String()),
		slog.String("data_dir", c.DataDir),
		slog.String("oidc_issuer", c.ExternalOIDC.Issuer),
		slog.Any("allowed_origins", c.AllowedOrigins),
		slog.String("shutdown_timeout", c.ShutdownTimeout.String()),
		slog.String("jitsi_url", c.JitsiURL),
		slog.String("meeting_duration", c.MeetingDuration.String()),
		slog.String("jitsi_app_id", c.JitsiAppID),
		slog.String("jitsi_app_secret", c.JitsiAppSecret.String()),
	)
}
