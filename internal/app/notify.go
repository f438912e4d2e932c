package app

import (
	"context"
	"log/slog"
	"net/mail"
	"sync"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/internal/config"
	"github.com/healthmed/healthmed/internal/notify"
)

// notifications are the list the resolvers read and the worker that
// sends the e-mails.
type notifications struct {
	service *notify.Service
	worker  *notify.Worker
	enabled bool
}

func newNotifications(cfg config.Config, client *ent.Client, log *slog.Logger) (*notifications, error) {
	from, err := mail.ParseAddress(cfg.Notify.From)
	if err != nil {
		return nil, err
	}
	w := &notify.Worker{
		Client: client, From: *from, Log: log,
		MaxAttempts: cfg.Notify.MaxAttempts, RetryBase: cfg.Notify.RetryBase, RetryMax: cfg.Notify.RetryMax,
		Lease: cfg.Notify.Lease, Poll: cfg.Notify.Poll,
	}
	switch n := cfg.Notify; {
	case n.SMTPHost != "":
		w.Mailer = &notify.SMTP{Host: n.SMTPHost, Port: n.SMTPPort, TLS: n.SMTPTLS,
			Username: n.SMTPUser, Password: string(n.SMTPPassword), HeloName: domain(from.Address)}
	case cfg.Dev:
		// A development server writes its e-mails to the log, where a
		// developer finds the links that make and recover accounts.
		w.Mailer = notify.LogMailer{Log: log}
	}
	return &notifications{
		service: &notify.Service{Client: client},
		worker:  w,
		enabled: cfg.Notify.Worker,
	}, nil
}

// StartNotifications runs the notification worker (e-mail delivery and
// reminders) in one goroutine, unless HEALTHMED_NOTIFY_WORKER=false. The
// returned function stops it and waits: a message being sent is finished,
// the rest of its batch handed back to the outbox.
func (a *App) StartNotifications(ctx context.Context, log *slog.Logger) (stop func()) {
	if a.notify == nil || !a.notify.enabled {
		return func() {}
	}
	switch a.notify.worker.Mailer.(type) {
	case nil:
		log.Warn("notifications: HEALTHMED_SMTP_HOST is not set, no e-mail will be sent")
	case notify.LogMailer:
		log.Warn("notifications: HEALTHMED_SMTP_HOST is not set; development server: e-mails are written to this log")
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.notify.worker.Run(ctx)
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}

func domain(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == '@' {
			return addr[i+1:]
		}
	}
	return "localhost"
}
