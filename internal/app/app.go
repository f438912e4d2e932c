// Package app wires the server's parts together from the configuration.
// The command and the end-to-end tests build the very same thing.
package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/graph"
	"github.com/healthmed/healthmed/internal/agenda"
	"github.com/healthmed/healthmed/internal/auth"
	"github.com/healthmed/healthmed/internal/config"
	"github.com/healthmed/healthmed/internal/identity"
	"github.com/healthmed/healthmed/internal/lgpd"
	"github.com/healthmed/healthmed/internal/live"
	"github.com/healthmed/healthmed/internal/meeting"
	"github.com/healthmed/healthmed/internal/multipart"
	"github.com/healthmed/healthmed/internal/observe"
	"github.com/healthmed/healthmed/internal/ratelimit"
	"github.com/healthmed/healthmed/internal/reaction"
	"github.com/healthmed/healthmed/internal/record"
	"github.com/healthmed/healthmed/internal/review"
	"github.com/healthmed/healthmed/internal/server"
	"github.com/healthmed/healthmed/internal/specialty"
	"github.com/healthmed/healthmed/internal/viewer"
	"github.com/healthmed/healthmed/internal/waitlist"
	"github.com/healthmed/healthmed/internal/wsgorilla"
)

// App is the built server.
type App struct {
	Handler  http.Handler
	Issuer   *auth.Issuer
	Identity *identity.Service
	Agenda   *agenda.Service
	Records  *record.Service
	Waitlist *waitlist.Service
	Hub      *live.Hub
	// Shared renders a subscription event once per viewer and operation.
	Shared *live.SharedResponses
	// Drainer ends the websocket connections on shutdown.
	Drainer *server.Drainer
	// Clinic is billing, coverage, reports and their periodic job.
	Clinic *Clinic
	// Metrics are the Prometheus collectors; nil with HEALTHMED_METRICS=off.
	Metrics   *observe.Metrics
	obs       *observability
	notify    *notifications
	signouts  *live.Signouts
	positions *live.Positions
	// waitlistSweep is how often runWaitlist looks for expired holds.
	waitlistSweep time.Duration
	log           *slog.Logger
	shutdown      sync.Once
}

// Close flushes the spans not yet exported and stops the metrics
// listener; the command calls it once the HTTP server has stopped.
func (a *App) Close(ctx context.Context) error { return a.obs.close(ctx) }

// Shutdown closes the websockets with a code clients reconnect on (to
// another replica), waits a moment for them to go, and ends what is left
// of the subscriptions. The server registers it with
// http.Server.RegisterOnShutdown, which does not wait for it, and calls it
// again once Shutdown returns: the second call waits for the first.
func (a *App) Shutdown() {
	a.shutdown.Do(func() {
		a.Drainer.Drain()
		a.Hub.Shutdown()
		// The subscriptions that the closed sockets ended left their
		// positions; each replica must be able to read them when their
		// clients come back (the writer runs until Close).
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.positions.Flush(ctx); err != nil {
			a.log.Warn("subscription positions at shutdown", "err", err.Error())
		}
	})
}

// Start runs the background work (the live event reader) until ctx ends.
// It returns once the reader knows where to start from.
func (a *App) Start(ctx context.Context, log *slog.Logger) {
	a.obs.start(log)
	go a.Clinic.run(ctx)
	go a.runWaitlist(ctx)
	go a.signouts.Run(ctx)
	go a.positions.Run(ctx)
	go func() {
		if err := a.Hub.Run(ctx); err != nil {
			log.Error("live events stopped", "err", err.Error())
		}
	}()
	select {
	case <-a.Hub.Ready():
	case <-ctx.Done():
	}
}

// Option changes how the app is built; tests use it.
type Option func(*options)

type options struct{ now func() time.Time }

// WithClock replaces the wall clock of the agenda, so tests can stand on
// either side of a daylight-saving change.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// Build wires the handler for an open database.
func Build(ctx context.Context, cfg config.Config, log *slog.Logger, sqlDB *sql.DB, client *ent.Client, opts ...Option) (*App, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	keys, err := signingKeys(cfg)
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	issuer := auth.NewIssuer(auth.IssuerConfig{IssuerURL: cfg.PublicURL, Audience: cfg.TokenAudience, TTL: cfg.TokenTTL}, keys)
	vcfg := auth.VerifierConfig{Issuer: cfg.PublicURL, Audience: cfg.TokenAudience, Keys: keys}
	if o := cfg.ExternalOIDC; o.Issuer != "" {
		vcfg.External = &auth.ExternalConfig{Issuer: o.Issuer, Audience: o.Audience, RoleClaim: o.RoleClaim, IdentityClaim: o.IdentityClaim}
	}
	verifier, err := auth.NewVerifier(ctx, vcfg)
	if err != nil {
		return nil, fmt.Errorf("token verifier: %w", err)
	}
	secret, err := linkKey(cfg)
	if err != nil {
		return nil, err
	}
	// The refresh tokens an exchange hands out are derived under a key of
	// their own, taken from the server secret.
	successorKey := hmac.New(sha256.New, secret)
	successorKey.Write([]byte("healthmed refresh tokens"))
	ident := &identity.Service{Client: client, Issuer: issuer, Verifier: verifier, Limiter: auth.NewDBLimiter(sqlDB, nil), Log: log,
		SessionTTL: cfg.SessionTTL, Now: o.now, RefreshReuse: cfg.RefreshReuseWindow, SuccessorKey: successorKey.Sum(nil),
		LinkKey: secret, Throttles: identity.NewThrottles(cfg.AccountLinksPerMinute, o.now)}
	// The schema's reactions reach the server's parts through the client.
	deps := client.Reactions
	if deps == nil {
		return nil, errors.New("the Ent client is built without ent.Reactions: changes would wake nobody")
	}
	hub := live.NewHub(client, sqlDB, string(cfg.DatabaseURL), log)
	deps.Live, deps.Now, deps.WaitlistHold = hub, o.now, cfg.Waitlist.Hold
	wl := &waitlist.Service{Client: client, Now: o.now}
	signouts := live.NewSignouts(sqlDB, log)
	positions := live.NewPositions(sqlDB, log)
	ag := &agenda.Service{Client: client, Meetings: meeting.Jitsi{BaseURL: cfg.JitsiURL, Duration: cfg.MeetingDuration,
		AppID: cfg.JitsiAppID, AppSecret: []byte(cfg.JitsiAppSecret)},
		Log: log, HorizonMonths: cfg.SlotHorizonMonths, Now: o.now, PublicURL: cfg.PublicURL}
	deps.SlotsRead = reaction.Readers{ag.SlotsRead}
	recs, err := records(ctx, cfg, client, log, o.now)
	if err != nil {
		return nil, err
	}
	deps.Records = recs
	recs.SignedIn = func(ctx context.Context, v viewer.Viewer) error {
		err := ident.Recheck(ctx, v)
		if errors.Is(err, identity.ErrUnauthenticated) {
			return errors.Join(record.ErrSignedOut, err)
		}
		return err
	}
	profiles, err := newProfiles(cfg, client, recs, log, o.now)
	if err != nil {
		return nil, err
	}
	nt, err := newNotifications(cfg, client, log)
	if err != nil {
		return nil, err
	}
	nt.worker.Meetings = ag.Meetings
	nt.worker.LinkKey, nt.worker.AppURL = secret, cfg.AppURL
	deps.Outbox = nt.worker
	clinic, err := newClinic(cfg, client, deps, sqlDB, ag, recs, log, o.now)
	if err != nil {
		return nil, err
	}
	clinic.steps = append(clinic.steps, jobStep{"delete ended sign-ins", ident.PurgeEnded})
	rights := &lgpd.Service{Client: client, Records: recs, Log: log, Passwords: ident, SignIns: ident}
	specialties := &specialty.Catalogue{Client: client}
	res := &graph.Resolver{Client: client, Identity: ident, Agenda: ag, Records: recs, Profiles: profiles, Live: &live.Service{Hub: hub, Client: client, Log: log, Positions: positions},
		LGPD: rights, Notify: nt.service, Billing: clinic.Billing, Coverage: clinic.Coverage, Reports: clinic.Reports, Log: log,
		Catalogue: specialties, Feedback: &review.Service{Client: client, Now: o.now}, Waitlist: wl}
	origins, err := server.NewOrigins(cfg.AllowedOrigins, cfg.PublicURL, cfg.Dev)
	if err != nil {
		return nil, fmt.Errorf("HEALTHMED_ALLOWED_ORIGINS: %w", err)
	}
	ws, err := wsgorilla.New(wsgorilla.Options{
		CheckOrigin:     origins.AllowsSocket,
		PingInterval:    30 * time.Second,
		ConnectionError: server.ConnectionErrorExtensions,
	})
	if err != nil {
		return nil, err
	}
	drainer := server.NewDrainer()
	obs, err := newObservability(ctx, cfg, sqlDB, hub)
	if err != nil {
		return nil, err
	}
	// Observation first, so it sees every response, including those
	// shared between subscriptions.
	var observer server.RequestObserver
	shared := live.NewSharedResponses()
	outer := []graphql.HandlerExtension{shared}
	if obs.observer != nil {
		observer = obs.observer
		outer = []graphql.HandlerExtension{obs.observer.Extension(), shared}
	}
	// One budget for both kinds of registration: each hashes a password.
	registrations := ratelimit.New(cfg.RegisterPerMinute, cfg.RegisterPerMinute, nil)
	gql := server.NewGraphQL(client, res, ident, log, server.GraphQLOptions{
		Dev: cfg.Dev, ComplexityLimit: cfg.MaxComplexity, MaxDepth: cfg.MaxDepth, MaxAliases: cfg.MaxAliases,
		MaxFields: cfg.MaxFields, MaxSameField: cfg.MaxSameField,
		MaxTokens: cfg.MaxTokens, MaxUploadBytes: multipart.BodyLimit(recs.MaxBytes),
		MaxOperationBytes: int64(cfg.MaxBodyBytes), MaxUploadFiles: maxUploadFiles, WebsocketInitWait: 10 * time.Second,
		SubscriptionsPerSocket: cfg.Subscriptions.PerSocket, SubscriptionsPerAccount: cfg.Subscriptions.PerAccount,
		Websocket: ws, Drainer: drainer, Recheck: ident, SignIns: signouts, PerResponse: func(ctx context.Context) context.Context {
			return specialties.WithLoaders(clinic.Coverage.WithLoaders(clinic.Billing.WithLoaders(ag.WithLoaders(ctx))))
		},
		Outer: outer,
		PasswordFields: map[string]bool{"registerDoctor": true, "registerPatient": true, "loginDoctor": true,
			"loginPatient": true, "loginAdmin": true, "changePassword": true, "resetPassword": true, "changeEmail": true, "deactivateAccount": true,
			"linkExternalIdentity": true},
		RootLimits: map[string]server.RootLimit{
			"doctors": {PerAddress: ratelimit.New(cfg.SearchPerMinute, cfg.SearchPerMinute/10, nil),
				PerAccount: ratelimit.New(cfg.SearchPerMinute, cfg.SearchPerMinute/10, nil)},
			"bookAppointment": {PerAddress: ratelimit.New(cfg.BookingPerMinute*10, cfg.BookingPerMinute, nil),
				PerAccount: ratelimit.New(cfg.BookingPerMinute, cfg.BookingPerMinute/3, nil)},
			"registerPatient": {PerAddress: registrations},
			"registerDoctor":  {PerAddress: registrations},
		},
		GenericPlans: agenda.GenericPlanMutations,
	})
	proxies, err := server.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("HEALTHMED_TRUSTED_PROXIES: %w", err)
	}
	h := server.Handler(server.Deps{
		Log: log, DB: sqlDB, GraphQL: gql, Authn: ident,
		Discovery: issuer.DiscoveryHandler(), JWKS: issuer.JWKSHandler(), Dev: cfg.Dev,
		Calendar: ag.Calendar, Receipt: clinic.Billing.Receipt, Files: recs.ServeDownload, Photos: profiles.ServePhoto, Export: rights.ServeExport,
		MaxBodyBytes: int64(cfg.MaxBodyBytes), RequestTimeout: cfg.RequestTimeout, TrustedProxies: proxies,
		BodyReadTimeout: cfg.BodyReadTimeout, UploadReadTimeout: cfg.UploadReadTimeout,
		Origins: origins,
		Metrics: obs.mainHandler, Observer: observer,
		Admission: server.Admission{MaxInFlight: cfg.Load.MaxInFlight, MaxQueued: cfg.Load.MaxQueued,
			QueueWait: cfg.Load.QueueWait, RetryAfter: cfg.Load.RetryAfter},
	})
	return &App{Handler: h, Issuer: issuer, Identity: ident, Agenda: ag, Records: recs, Waitlist: wl, Hub: hub, Shared: shared, Drainer: drainer,
		Metrics: obs.metrics, obs: obs, notify: nt, Clinic: clinic, signouts: signouts, positions: positions,
		waitlistSweep: cfg.Waitlist.Sweep, log: log}, nil
}

// maxUploadFiles bounds the files of one multipart request: every
// operation that takes a file takes one.
const maxUploadFiles = 4

func signingKeys(cfg config.Config) (*auth.KeySet, error) {
	if cfg.SigningKey != "" {
		return auth.ParseKeySetPEM(string(cfg.SigningKey))
	}
	// Dev mode only (config refuses an empty key otherwise): one key kept
	// in the data directory so tokens survive a restart.
	return auth.LoadOrCreateDevKey(filepath.Join(cfg.DataDir, "dev-signing-key.pem"))
}
