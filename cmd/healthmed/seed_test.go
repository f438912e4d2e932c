package main

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/healthmed/healthmed/ent/admin"
	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/testdb"
	"github.com/healthmed/healthmed/internal/viewer"
)

// TestSeedIsRefusedInProduction: the seed's accounts have published
// passwords, so a production server never creates them.
func TestSeedIsRefusedInProduction(t *testing.T) {
	d := testdb.New(t)
	key := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32)))
	for k, v := range map[string]string{
		"DATABASE_URL": d.URL, "HEALTHMED_PUBLIC_URL": "https://healthmed.test", "HEALTHMED_DATA_DIR": t.TempDir(),
		"HEALTHMED_SIGNING_KEY": apptest.NewKeyPEM(t), "HEALTHMED_RECORD_KEK": key, "HEALTHMED_LINK_SECRET": key,
		"HEALTHMED_DEV": "false",
	} {
		t.Setenv(k, v)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := run(context.Background(), log, []string{"seed"}); !errors.Is(err, errSeedInProduction) {
		t.Fatalf("seed in production: %v", err)
	}
	n, err := d.Client.Admin.Query().Where(admin.EmailHasSuffix("@demo.healthmed.dev")).Count(viewer.SystemContext(context.Background()))
	if err != nil || n != 0 {
		t.Fatalf("demo administrators after a refused seed: %d (%v)", n, err)
	}
}
