// Package profile is what doctors and patients say about themselves (the
// doctor's public profile and photo, the patient's private details) and
// the clinic's verification of a doctor's CRM.
package profile

import (
	"context"
	"log/slog"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/internal/blob"
	"github.com/healthmed/healthmed/internal/txn"
)

// Service edits profiles and keeps doctors' photos.
type Service struct {
	Client *ent.Client
	// Photos holds the doctors' photos, re-encoded, under random keys.
	Photos blob.Store
	// PublicURL is the server's address as clients reach it; a photo's
	// URL is PublicURL + "/photos/" + key.
	PublicURL string
	Log       *slog.Logger
	Now       func() time.Time
}

func (s *Service) db(ctx context.Context) *ent.Client { return txn.Client(ctx, s.Client) }

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
