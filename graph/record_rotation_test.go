package graph_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/config"
)

// A record KEK is rotated without downtime: servers with the new key
// (the old one as previous) read everything, rotate-keys re-wraps what is
// stored, and then servers with only the new key still read it all, while
// the old key alone no longer opens anything.
func TestRecordKEKRotation(t *testing.T) {
	op, srv := newFakeOperator(t)
	env := apptest.New(t, apptest.WithConfig(func(c *config.Config) { c.Clinic.CoverageURL = srv.URL }))
	doc, _ := env.Doctor("Dr. Rotação", "Cardiology", -23.5, -46.6)
	alice, _, _ := env.Patient("Alice")
	const card = "8901 2345 6789 0123"
	if r := env.Do(alice, registerPlanOp, map[string]any{"in": map[string]any{"operator": "unimed", "cardNumber": card}}); r.Code() != "" {
		t.Fatalf("plan: %+v", r.Errors)
	}
	content := pdf(200 << 10)
	file := upload(t, env, alice, fileInput("Exame", "EXAM"), apptest.File{Name: "a.pdf", Content: content})

	oldKEK := env.Config.RecordKEK
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	newKEK := config.Secret(base64.StdEncoding.EncodeToString(key))
	download := func(e *apptest.Env) (int, []byte) {
		t.Helper()
		res, body, err := e.Download(alice, downloadURL(t, e, alice, file))
		if err != nil {
			return 0, nil
		}
		return res.StatusCode, body
	}

	rotating := env.ReplicaWith(t, func(c *config.Config) { c.RecordKEK, c.RecordKEKPrevious = newKEK, oldKEK })
	if status, body := download(rotating); status != 200 || !bytes.Equal(body, content) {
		t.Fatalf("during the rotation: status %d, %d bytes", status, len(body))
	}
	ctx := context.Background()
	if files, cards, err := rotating.App.RotateKeys(ctx); err != nil || files != 1 || cards != 1 {
		t.Fatalf("rotate: %d files, %d cards, %v", files, cards, err)
	}
	if files, cards, err := rotating.App.RotateKeys(ctx); err != nil || files != 0 || cards != 0 {
		t.Fatalf("second rotate: %d files, %d cards, %v", files, cards, err)
	}

	retired := env.ReplicaWith(t, func(c *config.Config) { c.RecordKEK, c.RecordKEKPrevious = newKEK, "" })
	if status, body := download(retired); status != 200 || !bytes.Equal(body, content) {
		t.Fatalf("after retiring the old KEK: status %d, %d bytes", status, len(body))
	}
	// The card opens under the new KEK alone: the operator is asked with it.
	slot := createSlot(t, retired, doc, time.Now().Add(48*time.Hour).Truncate(time.Hour), 50)
	retired.Do(alice, clinicBookOp, map[string]any{"slot": slot})
	retired.App.Clinic.Coverage.Wait()
	op.mu.Lock()
	cards := append([]string(nil), op.cards...)
	op.mu.Unlock()
	if len(cards) != 1 || cards[0] != "8901234567890123" {
		t.Fatalf("operator was asked with %q", cards)
	}
	// The old KEK alone opens nothing any more.
	if status, body := download(env); status == 200 && bytes.Equal(body, content) {
		t.Fatal("the retired KEK still opens the re-wrapped file")
	}
}
