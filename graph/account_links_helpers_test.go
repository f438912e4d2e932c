package graph_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/config"
	"github.com/healthmed/healthmed/internal/notify/smtptest"
)

const (
	verifyEmailOp   = `mutation($t: String!) { verifyEmail(token: $t) }`
	resendOp        = `mutation { resendVerificationEmail }`
	requestResetOp  = `mutation($l: String!) { requestPasswordReset(login: $l) }`
	resetPasswordOp = `mutation($t: String!, $pw: String!) { resetPassword(token: $t, newPassword: $pw) { token refreshToken } }`
	changeEmailOp   = `mutation($e: String!, $pw: String!) { changeEmail(newEmail: $e, password: $pw) }`
	regPairOp       = `mutation($in: RegisterPatientInput!) { registerPatient(input: $in) { token expiresAt refreshToken refreshExpiresAt } }`
	inAppListOp     = `{ notifications(first: 50) { edges { node { id kind createdAt read } } } }`
)

// mailEnv is a server whose e-mail worker delivers to a test SMTP server.
func mailEnv(t *testing.T, opts ...apptest.Option) (*apptest.Env, *smtptest.Server) {
	t.Helper()
	srv := smtptest.Start(t)
	opts = append([]apptest.Option{apptest.WithConfig(func(c *config.Config) {
		c.Notify.SMTPHost, c.Notify.SMTPPort, c.Notify.SMTPTLS = srv.Host, srv.Port, "opportunistic"
		c.Notify.Poll = 200 * time.Millisecond
		c.AppURL = "https://app.healthmed.test"
	})}, opts...)
	env := apptest.New(t, opts...)
	stop := env.App.StartNotifications(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(stop)
	return env, srv
}

// mailTo waits for the n-th message (from 1) to addr whose subject has
// subject, and returns it.
func mailTo(t *testing.T, srv *smtptest.Server, addr, subject string, n int) smtptest.Message {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var got []smtptest.Message
		for _, m := range srv.Messages() {
			if len(m.To) == 1 && m.To[0] == addr && strings.Contains(m.Subject, subject) {
				got = append(got, m)
			}
		}
		if len(got) >= n {
			return got[n-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message %d to %s about %q; got %d of them, %d in all", n, addr, subject, len(got), len(srv.Messages()))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mailsTo counts the messages to addr whose subject has subject.
func mailsTo(srv *smtptest.Server, addr, subject string) int {
	n := 0
	for _, m := range srv.Messages() {
		if len(m.To) == 1 && m.To[0] == addr && strings.Contains(m.Subject, subject) {
			n++
		}
	}
	return n
}

var linkRe = regexp.MustCompile(`https://app\.healthmed\.test/(verify-email|reset-password)\?token=([A-Za-z0-9_-]{43})`)

// linkIn is the token of the link in an e-mail, checking its page.
func linkIn(t *testing.T, m smtptest.Message, page string) string {
	t.Helper()
	got := linkRe.FindStringSubmatch(m.Body)
	if got == nil || got[1] != page {
		t.Fatalf("no %s link in %q", page, m.Body)
	}
	return got[2]
}

// inClear fails when secret appears anywhere in the database, in the
// server's log or in what the in-app list of token shows.
func inClear(t *testing.T, env *apptest.Env, secret string, tokens ...string) {
	t.Helper()
	rows, err := env.DB.SQL.Query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) < 10 {
		t.Fatalf("tables %v", tables)
	}
	for _, table := range tables {
		var dump string
		q := fmt.Sprintf(`SELECT coalesce(string_agg(row_to_json(x)::text, ''), '') FROM %q x`, table)
		if err := env.DB.SQL.QueryRow(q).Scan(&dump); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		if strings.Contains(dump, secret) {
			t.Fatalf("the link's secret is stored in %s", table)
		}
	}
	if strings.Contains(env.LogText(), secret) {
		t.Fatal("the link's secret is in the server's log")
	}
	for _, tok := range tokens {
		r := env.Do(tok, inAppListOp, nil)
		if strings.Contains(string(r.Data), secret) {
			t.Fatal("the link's secret is in the in-app list")
		}
	}
}

func decodeBool(t *testing.T, r apptest.Response, field string) bool {
	t.Helper()
	var out map[string]bool
	r.Decode(t, &out)
	return out[field]
}
