package notify

import (
	"context"
	"log/slog"
)

// LogMailer writes each e-mail to the log instead of sending it. It is the
// mailer of a development server with no SMTP relay (make run), so that a
// developer can follow a registration's or a reset's link; never of a
// production one, whose log must hold no link secret.
type LogMailer struct{ Log *slog.Logger }

// Send implements Mailer.
func (m LogMailer) Send(ctx context.Context, msg *Message) error {
	m.Log.InfoContext(ctx, "e-mail (development server: written here, not sent)",
		"to", msg.To, "subject", msg.Subject, "body", msg.Body)
	return nil
}
