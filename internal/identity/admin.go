package identity

import (
	"context"
	"errors"
	"strings"

	"github.com/healthmed/healthmed/ent/admin"
	"github.com/healthmed/healthmed/internal/validate"
)

const (
	roleAdmin = "admin"
	// roleRegistrant signs in a registration waiting for its link.
	roleRegistrant = "registrant"
)

// LoginAdmin signs a clinic administrator in by e-mail and password,
// through the same throttled, constant-shape path as doctors and patients.
func (s *Service) LoginAdmin(ctx context.Context, email, password string) (*AuthPayload, error) {
	e, err := validate.Email(strings.TrimSpace(email))
	if err != nil {
		return nil, validate.Field("email", err)
	}
	return s.login(ctx, "admin:"+e, password, func(ctx context.Context) (int, string, bool, error) {
		a, err := s.Client.Admin.Query().Where(admin.Email(e)).Only(ctx)
		if err != nil {
			return 0, "", false, err
		}
		return a.ID, a.PasswordHash, a.DisabledAt == nil, nil
	}, roleAdmin)
}

// checkAdmin refuses the token of an administrator who no longer exists
// or was disabled, at once.
func (s *Service) checkAdmin(sysCtx context.Context, id int) error {
	ok, err := s.Client.Admin.Query().Where(admin.ID(id), admin.DisabledAtIsNil()).Exist(sysCtx)
	switch {
	case err != nil:
		return err
	case !ok:
		return errors.Join(ErrUnauthenticated, errors.New("admin not active"))
	}
	return nil
}
