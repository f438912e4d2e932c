// Package graph holds the GraphQL resolvers. Each resolver is one call into
// Ent or a service. Who may call a root field is declared on it in the
// schema (@hasRole, @public; see directives.go); which rows they reach is
// left to the Ent privacy policies.
package graph

import (
	"context"
	"log/slog"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/internal/agenda"
	"github.com/healthmed/healthmed/internal/billing"
	"github.com/healthmed/healthmed/internal/coverage"
	"github.com/healthmed/healthmed/internal/identity"
	"github.com/healthmed/healthmed/internal/lgpd"
	"github.com/healthmed/healthmed/internal/live"
	"github.com/healthmed/healthmed/internal/notify"
	"github.com/healthmed/healthmed/internal/profile"
	"github.com/healthmed/healthmed/internal/record"
	"github.com/healthmed/healthmed/internal/reports"
	"github.com/healthmed/healthmed/internal/review"
	"github.com/healthmed/healthmed/internal/specialty"
	"github.com/healthmed/healthmed/internal/viewer"
	"github.com/healthmed/healthmed/internal/waitlist"
)

// Resolver is the root of the resolvers and holds their dependencies.
type Resolver struct {
	Client   *ent.Client
	Identity *identity.Service
	Agenda   *agenda.Service
	Records  *record.Service
	Profiles *profile.Service
	Live     *live.Service
	LGPD     *lgpd.Service
	Notify   *notify.Service
	Billing  *billing.Service
	Coverage *coverage.Service
	Reports  *reports.Service
	// Catalogue is the specialties doctors choose from.
	Catalogue *specialty.Catalogue
	// Feedback is the reviews of doctors.
	Feedback *review.Service
	Waitlist *waitlist.Service
	Log      *slog.Logger
}

// viewerNode loads the signed-in doctor or patient, or nil when anonymous.
func (r *Resolver) viewerNode(ctx context.Context) (ent.Noder, error) {
	v := viewer.FromContext(ctx)
	switch {
	case v.IsDoctor():
		return r.Client.Doctor.Get(ctx, v.ID)
	case v.IsPatient():
		return r.Client.Patient.Get(ctx, v.ID)
	}
	return nil, nil
}
