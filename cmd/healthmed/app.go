package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/healthmed/healthmed/ent"
	_ "github.com/healthmed/healthmed/ent/runtime"
	"github.com/healthmed/healthmed/internal/app"
	"github.com/healthmed/healthmed/internal/config"
	"github.com/healthmed/healthmed/internal/db"
	"github.com/healthmed/healthmed/internal/heapfloor"
	"github.com/healthmed/healthmed/internal/reaction"
	"github.com/healthmed/healthmed/internal/seed"
	httpserver "github.com/healthmed/healthmed/internal/server"
)

// preparedStatements bounds the statements each connection keeps
// prepared: the queries the server sends are a few hundred texts at most.
const preparedStatements = 256

// server is the running command: built once, used by every sub-command.
type server struct {
	cfg    config.Config
	log    *slog.Logger
	sql    *sql.DB
	client *ent.Client
}

func newApp(ctx context.Context, log *slog.Logger, dev bool) (*server, error) {
	cfg, err := config.FromEnv(func(k string) (string, bool) {
		if dev && k == "HEALTHMED_DEV" {
			return "true", true
		}
		return os.LookupEnv(k)
	})
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	log.Info("configuration", "config", cfg)
	sqlDB, err := db.Open(string(cfg.DatabaseURL))
	if err != nil {
		return nil, err
	}
	// The pool keeps the connections it opened, however long they stay
	// idle: a new one costs PostgreSQL a backend and PostGIS's first use
	// (see db.Warm), which a replica would otherwise pay again at the
	// first burst after every quiet spell.
	sqlDB.SetMaxOpenConns(cfg.DBMaxConns)
	sqlDB.SetMaxIdleConns(cfg.DBMaxConns)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("database %s: %w", cfg.DatabaseURL, err)
	}
	// app.Build fills in what the schema's reactions need.
	client := ent.NewClient(ent.Driver(db.NewPrepared(sqlDB, preparedStatements)), ent.Reactions(&reaction.Deps{}))
	return &server{cfg: cfg, log: log, sql: sqlDB, client: client}, nil
}

func (a *server) close() { a.client.Close() }

func (a *server) migrate(ctx context.Context) error { return db.Migrate(ctx, a.sql, a.log) }

// errSeedInProduction: the seed creates accounts whose passwords are in
// this source code, an administrator's among them.
var errSeedInProduction = errors.New("seed: refused outside development mode (HEALTHMED_DEV=true): " +
	"it creates demo accounts with published passwords, an administrator among them")

func (a *server) seed(ctx context.Context) error {
	if !a.cfg.Dev {
		return errSeedInProduction
	}
	logins, err := seed.Run(ctx, a.client, seed.Options{})
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	// A banner for the developer at the terminal, deliberately not a log
	// line: credentials never go into logs.
	fmt.Fprintln(os.Stderr, "\nDemo accounts (development data only):")
	for _, l := range logins {
		fmt.Fprintf(os.Stderr, "  %-7s  %-55s password: %s   (%s)\n", l.Role, l.Login, l.Password, l.Name)
	}
	return nil
}

// rotateKeys is the middle step of a KEK rotation: with the new key as
// HEALTHMED_RECORD_KEK and the old one in HEALTHMED_RECORD_KEK_PREVIOUS
// (and the servers already running so), it re-wraps every stored key.
func (a *server) rotateKeys(ctx context.Context) error {
	built, err := app.Build(ctx, a.cfg, a.log, a.sql, a.client)
	if err != nil {
		return err
	}
	files, cards, err := built.RotateKeys(ctx)
	a.log.Info("keys re-wrapped under the current record KEK", "record_files", files, "insurance_cards", cards)
	return err
}

func (a *server) serve(ctx context.Context) error {
	defer heapfloor.Start(uint64(a.cfg.Load.HeapFloorMiB) << 20)()
	// Before the replica reports ready, so its first requests find the
	// pool open and PostGIS loaded. A shortfall only costs latency later.
	start := time.Now()
	warmed, err := db.Warm(ctx, a.sql, a.cfg.DBMaxConns)
	if err != nil {
		a.log.Warn("warming the database pool", "warmed", warmed, "want", a.cfg.DBMaxConns, "err", err.Error())
	} else {
		a.log.Info("database pool warmed", "connections", warmed, "ms", time.Since(start).Milliseconds())
	}
	built, err := app.Build(ctx, a.cfg, a.log, a.sql, a.client)
	if err != nil {
		return err
	}
	// Deferred, so it runs after the HTTP server has drained: the last
	// requests' spans are exported too.
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := built.Close(cctx); err != nil {
			a.log.Warn("closing observability", "err", err.Error())
		}
	}()
	h := built.Handler
	a.warmUp(ctx, h)
	built.Start(ctx, a.log)
	// One goroutine sends the notifications' e-mails and reminders; on
	// the way out it finishes the message in flight and hands back the rest.
	defer built.StartNotifications(ctx, a.log)()
	srv := httpserver.HTTPServer(a.cfg.ListenAddr, h, a.cfg.ReadHeaderTimeout)
	ln, err := net.Listen("tcp", a.cfg.ListenAddr)
	if err != nil {
		return err
	}
	a.log.Info("listening", "addr", ln.Addr().String(), "graphql", a.cfg.PublicURL+"/graphql", "dev", a.cfg.Dev)
	if a.cfg.Dev {
		fmt.Fprintf(os.Stderr, "\nGraphQL IDE: http://%s/   endpoint: http://%s/graphql\n\n", ln.Addr(), ln.Addr())
	}
	srv.RegisterOnShutdown(built.Shutdown)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.log.Info("shutting down", "grace", a.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	// Hijacked websockets are not the HTTP server's to wait for: their
	// close frames must be out before the process exits.
	built.Shutdown()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// warmUpRounds is how many times each warm-up client sends each request.
const warmUpRounds = 2

// warmUp has the replica answer the front ends' search itself before it
// listens (server.WarmUp), from as many clients as it runs requests at
// once.
func (a *server) warmUp(ctx context.Context, h http.Handler) {
	clients := a.cfg.Load.MaxInFlight
	if clients <= 0 || clients > a.cfg.DBMaxConns {
		clients = a.cfg.DBMaxConns
	}
	start := time.Now()
	n, err := httpserver.WarmUp(ctx, h, httpserver.WarmUpRequests(), clients, warmUpRounds)
	if err != nil {
		a.log.Warn("warming up", "answered", n, "err", err.Error())
		return
	}
	a.log.Info("warmed up", "searches", n, "ms", time.Since(start).Milliseconds())
}
