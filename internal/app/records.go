package app

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/internal/blob"
	"github.com/healthmed/healthmed/internal/config"
	"github.com/healthmed/healthmed/internal/envelope"
	"github.com/healthmed/healthmed/internal/record"
)

// records builds the medical record service.
func records(ctx context.Context, cfg config.Config, client *ent.Client, log *slog.Logger, now func() time.Time) (*record.Service, error) {
	kek, err := devOrConfiguredKey(cfg.RecordKEK, filepath.Join(cfg.DataDir, "dev-record-kek"))
	if err != nil {
		return nil, fmt.Errorf("record KEK: %w", err)
	}
	previous, err := cfg.PreviousKEKs()
	if err != nil {
		return nil, err
	}
	wrapper, err := envelope.NewKeyring(kek, previous...)
	if err != nil {
		return nil, err
	}
	linkSecret, err := serverSecret(cfg)
	if err != nil {
		return nil, err
	}
	var store blob.Store
	if cfg.BlobStore == "s3" {
		store, err = blob.NewS3(ctx, blob.S3Config{
			Endpoint: cfg.S3.Endpoint, Bucket: cfg.S3.Bucket, Region: cfg.S3.Region,
			AccessKey: cfg.S3.AccessKey, SecretKey: string(cfg.S3.SecretKey), Insecure: cfg.S3.Insecure,
		})
	} else {
		store, err = blob.NewFS(filepath.Join(cfg.DataDir, "records"))
	}
	if err != nil {
		return nil, fmt.Errorf("record store: %w", err)
	}
	maxBytes := cfg.MaxUploadBytes
	if maxBytes <= 0 {
		maxBytes = record.DefaultMaxBytes
	}
	svc := &record.Service{
		Client: client, Store: store, Keys: wrapper,
		Links:    record.NewLinks(linkSecret, cfg.PublicURL),
		MaxBytes: maxBytes, Log: log, Now: now, Budget: record.DefaultAuditBudget(),
	}
	return svc, nil
}

// serverSecret is HEALTHMED_LINK_SECRET, or in dev mode one kept in the
// data directory. It signs download links and derives refresh tokens.
func serverSecret(cfg config.Config) ([]byte, error) {
	if cfg.LinkSecret != "" {
		return []byte(cfg.LinkSecret), nil
	}
	secret, err := envelope.LoadOrCreateKeyFile(filepath.Join(cfg.DataDir, "dev-link-secret"))
	if err != nil {
		return nil, fmt.Errorf("link secret: %w", err)
	}
	return secret, nil
}

// devOrConfiguredKey decodes the configured key or, in dev mode only
// (the configuration refuses an empty key otherwise), keeps one in the
// data directory so files encrypted before a restart still open.
func devOrConfiguredKey(configured config.Secret, devPath string) ([]byte, error) {
	if configured != "" {
		return envelope.ParseKey(string(configured))
	}
	return envelope.LoadOrCreateKeyFile(devPath)
}

// RotateKeys re-wraps every record file's data key and every sealed
// insurance card under the current HEALTHMED_RECORD_KEK; the retired KEKs
// in HEALTHMED_RECORD_KEK_PREVIOUS may be dropped once it has run. It
// returns how many of each it re-wrapped.
func (a *App) RotateKeys(ctx context.Context) (files, cards int, err error) {
	if files, err = a.Records.RewrapKeys(ctx); err != nil {
		return files, 0, fmt.Errorf("record files: %w", err)
	}
	if cards, err = a.Clinic.Coverage.RewrapCards(ctx); err != nil {
		return files, cards, fmt.Errorf("insurance cards: %w", err)
	}
	return files, cards, nil
}
