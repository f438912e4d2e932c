package seed

import (
	"context"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/admin"
	"github.com/healthmed/healthmed/internal/auth"
)

// The demo clinic administrator, who runs the reports.
const (
	DemoAdminEmail    = "admin" + demoDomain
	DemoAdminPassword = "demo-admin-2026"
)

// seedAdmin creates the demo administrator unless it exists, so a
// database seeded before admins existed gets one too.
func seedAdmin(ctx context.Context, c *ent.Client) (Login, error) {
	l := Login{Role: "admin", Login: DemoAdminEmail, Password: DemoAdminPassword, Name: "Administração Demo"}
	ok, err := c.Admin.Query().Where(admin.Email(DemoAdminEmail)).Exist(ctx)
	if err != nil || ok {
		return l, err
	}
	hash, err := auth.HashPassword(DemoAdminPassword)
	if err != nil {
		return l, err
	}
	return l, c.Admin.Create().SetName(l.Name).SetEmail(DemoAdminEmail).SetPasswordHash(hash).
		SetEmailVerifiedAt(verifiedAt).Exec(ctx)
}
