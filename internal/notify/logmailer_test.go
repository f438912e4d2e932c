package notify_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/healthmed/healthmed/internal/notify"
)

func TestLogMailerWritesTheWholeMessage(t *testing.T) {
	var out bytes.Buffer
	m := notify.LogMailer{Log: slog.New(slog.NewJSONHandler(&out, nil))}
	err := m.Send(context.Background(), &notify.Message{To: "ana@example.com", Subject: "Confirme seu e-mail",
		Body: "https://app.example/verify?token=abc"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ana@example.com", "Confirme seu e-mail", "verify?token=abc"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("log lacks %q: %s", want, out.String())
		}
	}
}
