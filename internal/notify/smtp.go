package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"strconv"
	"time"
)

// Mailer delivers a message. An error means the receiving server did not
// take it; IsPermanent tells a refusal that retrying will not change.
type Mailer interface {
	Send(ctx context.Context, m *Message) error
}

// TLS modes of an SMTP submission.
const (
	// TLSStartTLSRequired upgrades the connection with STARTTLS and
	// refuses to go on without it (the default).
	TLSStartTLSRequired = "starttls"
	// TLSOpportunistic upgrades when the server offers STARTTLS and
	// otherwise speaks plain text; credentials are never sent in the
	// clear (net/smtp's PLAIN refuses unless the host is loopback).
	TLSOpportunistic = "opportunistic"
	// TLSImplicit speaks TLS from the first byte (SMTPS, port 465).
	TLSImplicit = "implicit"
)

// SMTP submits messages to one relay with the standard library's
// net/smtp: STARTTLS, AUTH PLAIN and the SMTP dialogue are all it takes,
// and the dial, deadlines and TLS policy are ours to set, so no further
// dependency is needed.
type SMTP struct {
	Host string
	Port int
	// TLS is TLSStartTLSRequired (when empty), TLSOpportunistic or
	// TLSImplicit.
	TLS      string
	Username string
	Password string
	// HeloName is the name given in EHLO; "localhost" when empty.
	HeloName string
	// TLSConfig overrides the client TLS settings (tests trust their own
	// CA with it); ServerName defaults to Host.
	TLSConfig *tls.Config
}

// SendError is a failed submission: the SMTP stage and, when the server
// replied, its code.
type SendError struct {
	Stage string
	Code  int
	Err   error
}

func (e *SendError) Error() string { return fmt.Sprintf("smtp %s: %v", e.Stage, e.Err) }

func (e *SendError) Unwrap() error { return e.Err }

// IsPermanent reports whether err is a refusal of this very message (a
// 5xx reply to its sender, recipient or content), which no retry will
// change. Connection, TLS and authentication trouble is not: it is the
// relay's or the configuration's and may pass.
func IsPermanent(err error) bool {
	var se *SendError
	if !errors.As(err, &se) || se.Code < 500 {
		return false
	}
	switch se.Stage {
	case "MAIL", "RCPT", "DATA":
		return true
	}
	return false
}

// Send implements Mailer. The whole dialogue is bounded by ctx's
// deadline; once the server has accepted the data, a failing QUIT does
// not make it an error.
func (s *SMTP) Send(ctx context.Context, m *Message) error {
	raw, err := m.Bytes()
	if err != nil {
		return &SendError{Stage: "DATA", Code: 554, Err: err}
	}
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return &SendError{Stage: "connect", Err: err}
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl) //nolint:errcheck
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) }) //nolint:errcheck
	defer stop()
	cfg := s.tlsConfig()
	if s.TLS == TLSImplicit {
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return &SendError{Stage: "TLS", Err: err}
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		return stageErr("greeting", err)
	}
	defer c.Close()
	helo := s.HeloName
	if helo == "" {
		helo = "localhost"
	}
	if err := c.Hello(helo); err != nil {
		return stageErr("EHLO", err)
	}
	if s.TLS != TLSImplicit {
		ok, _ := c.Extension("STARTTLS")
		switch {
		case ok:
			if err := c.StartTLS(cfg); err != nil {
				return stageErr("STARTTLS", err)
			}
		case s.TLS != TLSOpportunistic:
			return &SendError{Stage: "STARTTLS", Err: errors.New("the server does not offer STARTTLS, which the configuration requires")}
		}
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, s.Host)); err != nil {
			return stageErr("AUTH", err)
		}
	}
	if err := c.Mail(m.From.Address); err != nil {
		return stageErr("MAIL", err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return stageErr("RCPT", err)
	}
	w, err := c.Data()
	if err != nil {
		return stageErr("DATA", err)
	}
	if _, err := w.Write(raw); err != nil {
		return stageErr("DATA", err)
	}
	// Close sends the final dot and reads the reply: a nil error is the
	// server's 250, after which the message is theirs.
	if err := w.Close(); err != nil {
		return stageErr("DATA", err)
	}
	_ = c.Quit()
	return nil
}

func (s *SMTP) tlsConfig() *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.TLSConfig != nil {
		cfg = s.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = s.Host
	}
	return cfg
}

func stageErr(stage string, err error) error {
	se := &SendError{Stage: stage, Err: err}
	var te *textproto.Error
	if errors.As(err, &te) {
		se.Code = te.Code
	}
	return se
}
