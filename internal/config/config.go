// Package config reads the whole server configuration from the environment
// into one typed struct, so every setting is visible in one place and
// secrets are masked wherever the struct is logged.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
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

// MaxSlotHorizonMonths bounds HEALTHMED_SLOT_HORIZON_MONTHS.
const MaxSlotHorizonMonths = 60

// MaxRefreshReuseWindow bounds HEALTHMED_REFRESH_REUSE_WINDOW.
const MaxRefreshReuseWindow = 5 * time.Minute

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
	// SessionTTL is how long a sign-in lasts, however often its refresh
	// token is exchanged.
	SessionTTL time.Duration
	// RefreshReuseWindow is how long after its exchange a refresh token
	// may be presented again and get the same new one (two tabs, a lost
	// answer); any later reuse ends the sign-in.
	RefreshReuseWindow time.Duration
	// SigningKey is a PEM ECDSA P-256 key; in dev mode a key is generated
	// once and kept in DataDir when it is empty.
	SigningKey     Secret
	DataDir        string
	ExternalOIDC   OIDC
	AllowedOrigins []string
	// TrustedProxies are the load balancers (CIDRs) whose
	// X-Forwarded-For names the client.
	TrustedProxies  []string
	ShutdownTimeout time.Duration
	// JitsiURL is the Jitsi Meet deployment for consultations.
	JitsiURL        string
	MeetingDuration time.Duration
	// SlotHorizonMonths is how far ahead a doctor may open a slot: a slot
	// years away only clutters searches and the next-free-slot order.
	SlotHorizonMonths int
	// GraphQL abuse limits.
	MaxDepth      int
	MaxAliases    int
	MaxTokens     int
	MaxComplexity int
	// MaxFields bounds the fields a document expands to, fragments
	// spread in place.
	MaxFields int
	// MaxSameField bounds how often one response name is selected in
	// one selection set (validation compares each pair).
	MaxSameField   int
	MaxBodyBytes   int
	RequestTimeout time.Duration
	// ReadHeaderTimeout bounds the time to receive a request's headers,
	// BodyReadTimeout its body, and UploadReadTimeout the body of a
	// multipart upload: a client trickling bytes holds a connection and
	// a goroutine for no longer than that.
	ReadHeaderTimeout time.Duration
	BodyReadTimeout   time.Duration
	UploadReadTimeout time.Duration
	// Per-minute rates of the expensive operations, per client address
	// and per account; 0 turns a limit off.
	SearchPerMinute  int
	BookingPerMinute int

	// Subscriptions bounds the open subscriptions of a websocket and of
	// an account.
	Subscriptions SubscriptionLimits
	// RegisterPerMinute bounds registrations per client address and
	// replica; 0 turns the limit off.
	RegisterPerMinute int
	// AccountLinksPerMinute bounds, per client address and replica, the
	// e-mail links tried (verifyEmail, resetPassword) and the password
	// resets asked for; 0 turns the limit off.
	AccountLinksPerMinute int
	// AppURL is where the links in account e-mails lead (the front end's
	// /verify-email and /reset-password pages); PublicURL by default.
	AppURL string
	// JitsiAppID and JitsiAppSecret turn on signed meeting links for a
	// deployment with token authentication.
	JitsiAppID     string
	JitsiAppSecret Secret
	// MaxUploadBytes bounds one medical record file.
	MaxUploadBytes int64
	// RecordRetention is how long the bytes of a file its patient deleted
	// are kept before the periodic job erases them.
	RecordRetention time.Duration
	// RecordKEK (32 bytes, base64) wraps the data key of every record file;
	// LinkSecret signs download links. In dev mode each is generated once
	// and kept in DataDir when empty.
	RecordKEK Secret
	// RecordKEKPrevious are retired KEKs (comma-separated, base64) still
	// accepted for unwrapping while `healthmed rotate-keys` re-wraps every
	// stored key under RecordKEK.
	RecordKEKPrevious Secret
	LinkSecret        Secret
	// BlobStore is where record files' encrypted bytes go: "fs" (under
	// DataDir) or "s3".
	BlobStore string
	S3        S3
	// Metrics is "on" (GET /metrics on the main listener), "off", or an
	// address (host:port) of a listener of its own.
	Metrics string
	// OTLPTracesURL is the OTLP/HTTP collector's traces URL; empty, the
	// server traces nothing.
	OTLPTracesURL string
	// Notify is the notifications' e-mail delivery (see notify.go).
	Notify Notify
	// Clinic is billing, health insurance and reports (see clinic.go).
	Clinic Clinic
	// Load bounds the GraphQL requests at work at once (see load.go).
	Load Load
	// Waitlist is the hold of a freed slot (see waitlist.go).
	Waitlist Waitlist
}

// S3 names a bucket on an S3-compatible object store.
type S3 struct {
	// Endpoint is host[:port], e.g. s3.sa-east-1.amazonaws.com.
	Endpoint  string
	Bucket    string
	Region    string
	AccessKey string
	SecretKey Secret
	// Insecure speaks plain HTTP to the store.
	Insecure bool
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
	dur := positiveDuration(get, &errs)
	num := positiveInt(get, &errs)
	limit := nonNegativeInt(get, &errs)
	nonNegative := func(key, def string) int { return limit(key, def, "no limit") }
	dev, err := strconv.ParseBool(get("HEALTHMED_DEV", "false"))
	if err != nil {
		errs = append(errs, errors.New("HEALTHMED_DEV: want true or false"))
	}
	s3Insecure, err := strconv.ParseBool(get("HEALTHMED_S3_INSECURE", "false"))
	if err != nil {
		errs = append(errs, errors.New("HEALTHMED_S3_INSECURE: want true or false"))
	}
	c := Config{
		Dev:                   dev,
		ListenAddr:            get("HEALTHMED_LISTEN_ADDR", "127.0.0.1:8080"),
		DatabaseURL:           DatabaseURL(get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/healthmed?sslmode=disable")),
		DBMaxConns:            num("HEALTHMED_DB_MAX_CONNS", "20"),
		TokenAudience:         get("HEALTHMED_TOKEN_AUDIENCE", "healthmed"),
		TokenTTL:              dur("HEALTHMED_TOKEN_TTL", "15m"),
		SessionTTL:            dur("HEALTHMED_SESSION_TTL", "168h"),
		RefreshReuseWindow:    dur("HEALTHMED_REFRESH_REUSE_WINDOW", "30s"),
		SigningKey:            Secret(get("HEALTHMED_SIGNING_KEY", "")),
		DataDir:               get("HEALTHMED_DATA_DIR", "data"),
		ShutdownTimeout:       dur("HEALTHMED_SHUTDOWN_TIMEOUT", "20s"),
		JitsiURL:              get("HEALTHMED_JITSI_URL", "https://meet.jit.si"),
		MeetingDuration:       dur("HEALTHMED_MEETING_DURATION", "50m"),
		SlotHorizonMonths:     num("HEALTHMED_SLOT_HORIZON_MONTHS", "12"),
		MaxDepth:              num("HEALTHMED_MAX_DEPTH", "10"),
		MaxAliases:            num("HEALTHMED_MAX_ALIASES", "15"),
		MaxTokens:             num("HEALTHMED_MAX_TOKENS", "1000"),
		MaxComplexity:         num("HEALTHMED_MAX_COMPLEXITY", "5000"),
		MaxFields:             num("HEALTHMED_MAX_FIELDS", "2000"),
		MaxSameField:          num("HEALTHMED_MAX_SAME_FIELD", "30"),
		ReadHeaderTimeout:     dur("HEALTHMED_READ_HEADER_TIMEOUT", "10s"),
		BodyReadTimeout:       dur("HEALTHMED_BODY_READ_TIMEOUT", "10s"),
		UploadReadTimeout:     dur("HEALTHMED_UPLOAD_READ_TIMEOUT", "10m"),
		MaxBodyBytes:          num("HEALTHMED_MAX_BODY_BYTES", "262144"),
		RequestTimeout:        dur("HEALTHMED_REQUEST_TIMEOUT", "15s"),
		SearchPerMinute:       nonNegative("HEALTHMED_SEARCH_PER_MINUTE", "600"),
		BookingPerMinute:      nonNegative("HEALTHMED_BOOKING_PER_MINUTE", "30"),
		RegisterPerMinute:     nonNegative("HEALTHMED_REGISTER_PER_MINUTE", "5"),
		AccountLinksPerMinute: nonNegative("HEALTHMED_ACCOUNT_LINKS_PER_MINUTE", "10"),
		Subscriptions:         SubscriptionLimits{nonNegative("HEALTHMED_SUBSCRIPTIONS_PER_SOCKET", "25"), nonNegative("HEALTHMED_SUBSCRIPTIONS_PER_ACCOUNT", "100")},
		JitsiAppID:            get("HEALTHMED_JITSI_APP_ID", ""),
		JitsiAppSecret:        Secret(get("HEALTHMED_JITSI_APP_SECRET", "")),
		MaxUploadBytes:        int64(num("HEALTHMED_MAX_UPLOAD_BYTES", strconv.Itoa(25<<20))),
		RecordRetention:       dur("HEALTHMED_RECORD_RETENTION", "720h"),
		RecordKEK:             Secret(get("HEALTHMED_RECORD_KEK", "")),
		RecordKEKPrevious:     Secret(get("HEALTHMED_RECORD_KEK_PREVIOUS", "")),
		LinkSecret:            Secret(get("HEALTHMED_LINK_SECRET", "")),
		BlobStore:             get("HEALTHMED_BLOB_STORE", "fs"),
		S3: S3{
			Endpoint:  get("HEALTHMED_S3_ENDPOINT", ""),
			Bucket:    get("HEALTHMED_S3_BUCKET", ""),
			Region:    get("HEALTHMED_S3_REGION", "us-east-1"),
			AccessKey: get("HEALTHMED_S3_ACCESS_KEY", ""),
			SecretKey: Secret(get("HEALTHMED_S3_SECRET_KEY", "")),
			Insecure:  s3Insecure,
		},
		ExternalOIDC: OIDC{
			Issuer:        get("HEALTHMED_OIDC_ISSUER", ""),
			Audience:      get("HEALTHMED_OIDC_AUDIENCE", ""),
			RoleClaim:     get("HEALTHMED_OIDC_ROLE_CLAIM", "healthmed_role"),
			IdentityClaim: get("HEALTHMED_OIDC_IDENTITY_CLAIM", "email"),
		},
	}
	c.Metrics, c.OTLPTracesURL = get("HEALTHMED_METRICS", "on"), otlpTracesURL(get)
	c.PublicURL = strings.TrimRight(get("HEALTHMED_PUBLIC_URL", "http://"+c.ListenAddr), "/")
	c.AppURL = strings.TrimRight(get("HEALTHMED_APP_URL", c.PublicURL), "/")
	for _, p := range strings.Split(get("HEALTHMED_TRUSTED_PROXIES", ""), ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
	}
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
	if c.RefreshReuseWindow < 0 || c.RefreshReuseWindow > MaxRefreshReuseWindow {
		// A long window would let a stolen refresh token be used beside
		// its owner's unnoticed.
		errs = append(errs, fmt.Errorf("HEALTHMED_REFRESH_REUSE_WINDOW: between 0 and %s", MaxRefreshReuseWindow))
	}
	if c.SlotHorizonMonths > MaxSlotHorizonMonths {
		errs = append(errs, fmt.Errorf("HEALTHMED_SLOT_HORIZON_MONTHS: at most %d", MaxSlotHorizonMonths))
	}
	if !c.Dev && c.SigningKey == "" {
		errs = append(errs, errors.New("HEALTHMED_SIGNING_KEY: required outside dev mode"))
	}
	errs = append(errs, c.recordErrors()...)
	errs = append(errs, c.observeErrors()...)
	var clinicErrs []error
	c.Clinic, clinicErrs = clinicFromEnv(get)
	errs = append(errs, clinicErrs...)
	var loadErrs []error
	c.Load, loadErrs = loadFromEnv(get)
	errs = append(errs, loadErrs...)
	errs = append(errs, c.readNotify(get)...)
	var waitlistErrs []error
	c.Waitlist, waitlistErrs = waitlistFromEnv(get)
	errs = append(errs, waitlistErrs...)
	return c, errors.Join(errs...)
}

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
		slog.String("session_ttl", c.SessionTTL.String()),
		slog.String("refresh_reuse_window", c.RefreshReuseWindow.String()),
		slog.String("signing_key", c.SigningKey.String()),
		slog.String("data_dir", c.DataDir),
		slog.String("oidc_issuer", c.ExternalOIDC.Issuer),
		slog.Any("allowed_origins", c.AllowedOrigins),
		slog.Any("trusted_proxies", c.TrustedProxies),
		slog.String("shutdown_timeout", c.ShutdownTimeout.String()),
		slog.String("jitsi_url", c.JitsiURL),
		slog.String("meeting_duration", c.MeetingDuration.String()),
		slog.Int("slot_horizon_months", c.SlotHorizonMonths),
		slog.Int("max_depth", c.MaxDepth),
		slog.Int("max_aliases", c.MaxAliases),
		slog.Int("max_tokens", c.MaxTokens),
		slog.Int("max_complexity", c.MaxComplexity),
		slog.Int("max_fields", c.MaxFields),
		slog.Int("max_same_field", c.MaxSameField),
		slog.String("read_header_timeout", c.ReadHeaderTimeout.String()),
		slog.String("body_read_timeout", c.BodyReadTimeout.String()),
		slog.String("upload_read_timeout", c.UploadReadTimeout.String()),
		slog.Int("max_body_bytes", c.MaxBodyBytes),
		slog.String("request_timeout", c.RequestTimeout.String()),
		slog.Int("search_per_minute", c.SearchPerMinute),
		slog.Int("booking_per_minute", c.BookingPerMinute),
		slog.Any("subscriptions", c.Subscriptions),
		slog.Int("register_per_minute", c.RegisterPerMinute),
		slog.Int("account_links_per_minute", c.AccountLinksPerMinute),
		slog.String("app_url", c.AppURL),
		slog.String("jitsi_app_id", c.JitsiAppID),
		slog.String("jitsi_app_secret", c.JitsiAppSecret.String()),
		slog.Int64("max_upload_bytes", c.MaxUploadBytes),
		slog.String("record_retention", c.RecordRetention.String()),
		slog.String("record_kek", c.RecordKEK.String()),
		slog.String("record_kek_previous", c.RecordKEKPrevious.String()),
		slog.String("link_secret", c.LinkSecret.String()),
		slog.String("blob_store", c.BlobStore),
		slog.String("s3_endpoint", c.S3.Endpoint),
		slog.String("s3_bucket", c.S3.Bucket),
		slog.String("s3_secret_key", c.S3.SecretKey.String()),
		slog.String("metrics", c.Metrics),
		slog.String("otlp_traces_url", redactURL(c.OTLPTracesURL)),
		slog.Any("notify", c.Notify),
		slog.Any("clinic", c.Clinic),
		slog.Any("load", c.Load),
		slog.Any("waitlist", c.Waitlist),
	)
}

// SubscriptionLimits bound open subscriptions; 0 turns a limit off. The
// account limit counts on each replica separately.
type SubscriptionLimits struct {
	PerSocket  int
	PerAccount int
}
