package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/healthmed/healthmed/internal/config"
	"github.com/healthmed/healthmed/internal/live"
	"github.com/healthmed/healthmed/internal/observe"
)

// observability builds the metrics (unless HEALTHMED_METRICS=off) and the
// tracer (when an OTLP endpoint is configured). The observer is nil when
// both are off, and the requests then pay for neither.
type observability struct {
	observer *observe.Observer
	metrics  *observe.Metrics
	tracing  *observe.Tracing
	// mainHandler is /metrics on the main listener; nil when the metrics
	// are off or have a listener of their own, metricsLn.
	mainHandler http.Handler
	metricsLn   net.Listener
	metricsSrv  *http.Server
}

func newObservability(ctx context.Context, cfg config.Config, sqlDB *sql.DB, hub *live.Hub) (*observability, error) {
	o := &observability{}
	tr, err := observe.NewTracing(ctx, cfg.OTLPTracesURL)
	if err != nil {
		return nil, err
	}
	o.tracing = tr
	if cfg.Metrics != "off" {
		m := observe.NewMetrics()
		m.WatchDB(sqlDB)
		m.WatchSubscriptions(hub.Subscribers)
		hub.OnDeliver = m.LiveDelivered
		o.metrics = m
		if cfg.Metrics == "on" {
			o.mainHandler = m.Handler()
		} else {
			ln, err := net.Listen("tcp", cfg.Metrics)
			if err != nil {
				_ = tr.Shutdown(ctx)
				return nil, fmt.Errorf("metrics listener: %w", err)
			}
			mux := http.NewServeMux()
			mux.Handle("GET /metrics", m.Handler())
			// The operators' own port also profiles a replica under its
			// real load; the public listener never does.
			mux.HandleFunc("GET /debug/pprof/", pprof.Index)
			mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
			o.metricsLn = ln
			o.metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		}
	}
	if o.metrics != nil || o.tracing != nil {
		o.observer = &observe.Observer{Metrics: o.metrics, Tracing: o.tracing}
	}
	return o, nil
}

func (o *observability) start(log *slog.Logger) {
	if o.metricsSrv == nil {
		return
	}
	log.Info("metrics listening", "addr", o.metricsLn.Addr().String())
	go func() {
		if err := o.metricsSrv.Serve(o.metricsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "err", err.Error())
		}
	}()
}

func (o *observability) close(ctx context.Context) error {
	var errs []error
	if o.metricsSrv != nil {
		errs = append(errs, o.metricsSrv.Shutdown(ctx))
		_ = o.metricsLn.Close()
	}
	if err := o.tracing.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("flushing traces: %w", err))
	}
	return errors.Join(errs...)
}

// MetricsAddr is the address of the metrics' own listener; "" when they
// are served on the main listener or off.
func (a *App) MetricsAddr() string {
	if a.obs.metricsLn == nil {
		return ""
	}
	return a.obs.metricsLn.Addr().String()
}
