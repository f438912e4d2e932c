package notify_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent/notification"
	"github.com/healthmed/healthmed/internal/notify"
	"github.com/healthmed/healthmed/internal/notify/smtptest"
)

func TestEveryKindSaysOnlyWhenWhoAndTheLink(t *testing.T) {
	sp, _ := time.LoadLocation("America/Sao_Paulo")
	start := time.Date(2027, 1, 4, 12, 0, 0, 0, time.UTC) // 09:00 in São Paulo
	for _, k := range []notification.Kind{notification.KindBOOKING_REQUESTED, notification.KindBOOKING_ACCEPTED,
		notification.KindBOOKING_REJECTED, notification.KindBOOKING_CANCELLED, notification.KindREMINDER_24H,
		notification.KindREMINDER_1H, notification.KindSHARE_CREATED, notification.KindSHARE_REVOKED,
		notification.KindBOOKING_RESCHEDULED, notification.KindWAITLIST_OFFERED,
		notification.KindRESCHEDULE_PROPOSED, notification.KindRESCHEDULE_DECLINED} {
		for _, toDoctor := range []bool{true, false} {
			c := notify.Content{Kind: k, ToDoctor: toDoctor, DoctorName: "Dra. Ana Lima", StartsAt: start, Zone: sp,
				MeetingURL: "https://meet.example.org/healthmed-room?jwt=a.b.c", ShareUntil: start.Add(72 * time.Hour),
				HeldUntil: start.Add(-47 * time.Hour), ProposedAt: start.Add(26 * time.Hour)}
			subject, body := notify.Compose(c)
			if subject == "" || !strings.HasPrefix(body, "Olá,\n\n") || !strings.Contains(body, "não responda") {
				t.Errorf("%s: subject %q body %q", k, subject, body)
			}
			switch k {
			case notification.KindSHARE_CREATED:
				if !strings.Contains(body, "07/01/2027, às 09:00 (America/Sao_Paulo)") {
					t.Errorf("%s: no expiry in %q", k, body)
				}
			case notification.KindSHARE_REVOKED:
			default:
				if !strings.Contains(body, "segunda-feira, 04/01/2027, às 09:00 (America/Sao_Paulo)") {
					t.Errorf("%s: no local date and time in %q", k, body)
				}
			}
			switch k {
			case notification.KindWAITLIST_OFFERED:
				if !strings.Contains(body, "até sábado, 02/01/2027, às 10:00 (America/Sao_Paulo)") {
					t.Errorf("%s: no end of the hold in %q", k, body)
				}
			case notification.KindRESCHEDULE_PROPOSED:
				if !strings.Contains(body, "para terça-feira, 05/01/2027, às 11:00 (America/Sao_Paulo)") {
					t.Errorf("%s: no proposed time in %q", k, body)
				}
			}
			wantLink := k == notification.KindBOOKING_ACCEPTED || k == notification.KindREMINDER_24H || k == notification.KindREMINDER_1H ||
				(k == notification.KindBOOKING_RESCHEDULED && !toDoctor)
			if strings.Contains(body, c.MeetingURL) != wantLink {
				t.Errorf("%s: link present %v, want %v", k, !wantLink, wantLink)
			}
		}
	}
}

func TestMessageBytesAreMIMEWithAStableMessageID(t *testing.T) {
	m := &notify.Message{
		NotificationID: 64424509441, MessageID: notify.MessageIDFor(64424509441, "healthmed.example"),
		From: mail.Address{Name: "healthmed", Address: "no-reply@healthmed.example"}, To: "ana@example.com",
		Subject: "Teleconsulta confirmada às 09:00", Body: "Olá,\n\nLink: https://meet.example.org/r?jwt=" + strings.Repeat("x", 120) + "\n",
		Date: time.Date(2027, 1, 4, 12, 0, 0, 0, time.UTC),
	}
	raw, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := m.Bytes()
	if !bytes.Equal(raw, again) {
		t.Fatal("rendering the same message twice differs")
	}
	for _, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Fatalf("line of %d octets", len(line))
		}
	}
	pm, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if got := pm.Header.Get("Message-ID"); got != "<notification-64424509441@healthmed.example>" {
		t.Fatalf("Message-ID %q", got)
	}
	subj, err := new(mime.WordDecoder).DecodeHeader(pm.Header.Get("Subject"))
	if err != nil || subj != m.Subject {
		t.Fatalf("subject %q (%v)", subj, err)
	}
	body, _ := io.ReadAll(quotedprintable.NewReader(pm.Body))
	if strings.ReplaceAll(string(body), "\r\n", "\n") != m.Body {
		t.Fatalf("body %q", body)
	}
	if pm.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Fatal("no Auto-Submitted header")
	}
	m.To = "ana@example.com\r\nBcc: eve@example.com"
	if _, err := m.Bytes(); err == nil {
		t.Fatal("a header injection was rendered")
	}
}

func TestBackoffDoublesWithJitterUpToTheCap(t *testing.T) {
	w := &notify.Worker{RetryBase: time.Second, RetryMax: 30 * time.Second}
	for attempt, full := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 5: 16 * time.Second, 6: 30 * time.Second, 40: 30 * time.Second} {
		for i := 0; i < 50; i++ {
			if d := notify.Backoff(w, attempt); d < full/2 || d > full {
				t.Fatalf("attempt %d: wait %v outside [%v, %v]", attempt, d, full/2, full)
			}
		}
	}
}

func testMessage(id int) *notify.Message {
	return &notify.Message{NotificationID: id, MessageID: notify.MessageIDFor(id, "healthmed.test"),
		From: mail.Address{Address: "no-reply@healthmed.test"}, To: "someone@example.com",
		Subject: "Teste", Body: "Olá,\n", Date: time.Now()}
}

func TestSMTPTLSPolicies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	plain := smtptest.Start(t)
	withTLS := smtptest.Start(t, smtptest.WithStartTLS())

	// Required STARTTLS refuses a server that does not offer it.
	err := (&notify.SMTP{Host: plain.Host, Port: plain.Port}).Send(ctx, testMessage(1))
	var se *notify.SendError
	if !errors.As(err, &se) || se.Stage != "STARTTLS" || notify.IsPermanent(err) {
		t.Fatalf("required STARTTLS without it: %v", err)
	}
	if n := len(plain.Messages()); n != 0 {
		t.Fatalf("%d messages went out in the clear", n)
	}
	// Opportunistic goes on in the clear, but never with credentials.
	if err := (&notify.SMTP{Host: plain.Host, Port: plain.Port, TLS: notify.TLSOpportunistic}).Send(ctx, testMessage(2)); err != nil {
		t.Fatal(err)
	}
	if m := plain.Messages(); len(m) != 1 || m[0].TLS {
		t.Fatalf("opportunistic without STARTTLS: %+v", m)
	}
	// Required STARTTLS with a server that offers it: encrypted, then
	// authenticated.
	s := &notify.SMTP{Host: withTLS.Host, Port: withTLS.Port, Username: "relay-user", Password: "relay-pass",
		TLSConfig: withTLS.ClientTLS()}
	if err := s.Send(ctx, testMessage(3)); err != nil {
		t.Fatal(err)
	}
	if m := withTLS.Messages(); len(m) != 1 || !m[0].TLS || m[0].User != "relay-user" ||
		m[0].MessageID != "<notification-3@healthmed.test>" || m[0].To[0] != "someone@example.com" {
		t.Fatalf("STARTTLS delivery: %+v", m)
	}
	// A certificate the client does not trust stops the delivery.
	err = (&notify.SMTP{Host: withTLS.Host, Port: withTLS.Port}).Send(ctx, testMessage(4))
	if err == nil || len(withTLS.Messages()) != 1 {
		t.Fatalf("untrusted certificate: %v", err)
	}
}

func TestSMTPRefusalsArePermanentOnlyFor5xxOfTheMessage(t *testing.T) {
	ctx := context.Background()
	srv := smtptest.Start(t, smtptest.WithReject(func(cmd string, n int) string {
		switch {
		case cmd == "MAIL" && n == 1:
			return "451 4.3.0 try again later"
		case cmd == "RCPT" && n == 1:
			return "550 5.1.1 no such user"
		case cmd == "DATA" && n == 1:
			return "554 5.7.1 content refused"
		}
		return ""
	}))
	s := &notify.SMTP{Host: srv.Host, Port: srv.Port, TLS: notify.TLSOpportunistic}
	for i, want := range []bool{false, true, true} {
		err := s.Send(ctx, testMessage(i))
		if err == nil || notify.IsPermanent(err) != want {
			t.Fatalf("refusal %d: %v, permanent %v, want %v", i, err, notify.IsPermanent(err), want)
		}
	}
	if err := s.Send(ctx, testMessage(9)); err != nil {
		t.Fatal(err)
	}
	if got := srv.Messages(); len(got) != 1 {
		t.Fatalf("%d messages accepted, want 1", len(got))
	}
	// A relay that is down is not a refusal.
	srv.Close()
	if err := s.Send(ctx, testMessage(10)); err == nil || notify.IsPermanent(err) {
		t.Fatalf("relay down: %v", err)
	}
}
