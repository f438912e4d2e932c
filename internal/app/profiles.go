package app

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/internal/blob"
	"github.com/healthmed/healthmed/internal/config"
	"github.com/healthmed/healthmed/internal/profile"
	"github.com/healthmed/healthmed/internal/record"
)

// newProfiles builds the profile service. Photos go to the object store
// the records use when it is S3 (keys are random, the bucket is shared);
// on the local file system to a directory of their own.
func newProfiles(cfg config.Config, client *ent.Client, recs *record.Service,
	log *slog.Logger, now func() time.Time) (*profile.Service, error) {
	photos := recs.Store
	if cfg.BlobStore != "s3" {
		var err error
		if photos, err = blob.NewFS(filepath.Join(cfg.DataDir, "photos")); err != nil {
			return nil, fmt.Errorf("photo store: %w", err)
		}
	}
	return &profile.Service{Client: client, Photos: photos, PublicURL: cfg.PublicURL, Log: log, Now: now}, nil
}
