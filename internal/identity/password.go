package identity

import (
	"context"
	"fmt"

	"github.com/healthmed/healthmed/ent/admin"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/ent/patient"
	"github.com/healthmed/healthmed/ent/session"
	"github.com/healthmed/healthmed/internal/auth"
	"github.com/healthmed/healthmed/internal/clock"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/txn"
	"github.com/healthmed/healthmed/internal/viewer"
)

// ChangePassword sets a new password for the signed-in account once the
// current one is proven, ends every sign-in of the account and opens a new
// one. Wrong current passwords count against the login throttle of the
// account, so the form cannot be used to guess it. The earlier sign-ins'
// access tokens stop with them (see signedOut).
func (s *Service) ChangePassword(ctx context.Context, current, next string) (*AuthPayload, error) {
	v := viewer.FromContext(ctx)
	role, err := accountRole(v)
	if err != nil {
		return nil, err
	}
	if err := checkPassword("newPassword", next); err != nil {
		return nil, err
	}
	if next == current {
		return nil, gqlerr.BadInput("newPassword", "the new password must differ from the current one")
	}
	if err := s.confirmPassword(ctx, v, role, "currentPassword", current); err != nil {
		return nil, err
	}
	sys := viewer.SystemContext(ctx)
	db := txn.Client(ctx, s.Client)
	newHash, err := auth.HashPassword(next)
	if err != nil {
		return nil, err
	}
	switch role {
	case roleDoctor:
		err = db.Doctor.Update().Where(doctor.ID(v.ID)).SetPasswordHash(newHash).Exec(sys)
	case rolePatient:
		err = db.Patient.Update().Where(patient.ID(v.ID)).SetPasswordHash(newHash).Exec(sys)
	default:
		err = db.Admin.Update().Where(admin.ID(v.ID)).SetPasswordHash(newHash).Exec(sys)
	}
	if err != nil {
		return nil, err
	}
	err = db.Session.Update().Where(session.RoleEQ(sessionRoles[role]), session.AccountID(v.ID), session.RevokedAtIsNil()).
		SetRevokedAt(clock.UTC(s.Now)).Exec(sys)
	if err != nil {
		return nil, err
	}
	s.forgetLive("")
	s.Log.InfoContext(ctx, "password changed", "role", role, "account_id", v.ID)
	return s.issue(ctx, v.ID, role)
}

// accountRole names the table that holds the signed-in viewer's account.
// Who may call is the schema's @hasRole, which lets only accounts reach
// the services that ask: any other viewer here is our bug (a field that
// lost its directive), an internal error rather than a refusal.
func accountRole(v viewer.Viewer) (string, error) {
	switch {
	case v.IsDoctor():
		return roleDoctor, nil
	case v.IsPatient():
		return rolePatient, nil
	case v.IsAdmin():
		return roleAdmin, nil
	}
	return "", fmt.Errorf("identity: a %s viewer holds no account", v.Role)
}

// ConfirmPassword is confirmPassword for the signed-in viewer, for the
// forms of other services (deactivating the account).
func (s *Service) ConfirmPassword(ctx context.Context, field, password string) error {
	v := viewer.FromContext(ctx)
	role, err := accountRole(v)
	if err != nil {
		return err
	}
	return s.confirmPassword(ctx, v, role, field, password)
}

// confirmPassword proves the signed-in viewer knows the account's
// password before a change that outlives the sign-in. Wrong guesses count
// against the login throttle of the account, so such a form cannot be
// used to guess it; field names the input in the error.
func (s *Service) confirmPassword(ctx context.Context, v viewer.Viewer, role, field, password string) error {
	account := accountKey(role, v.ID)
	ok, retry, err := s.Limiter.Allow(ctx, account, v.ClientAddr)
	if err != nil {
		return err
	}
	if !ok {
		return gqlerr.RateLimitedError(retry)
	}
	sys := viewer.SystemContext(ctx)
	db := txn.Client(ctx, s.Client)
	var hash string
	switch role {
	case roleDoctor:
		d, err := db.Doctor.Get(sys, v.ID)
		if err != nil {
			return err
		}
		hash = d.PasswordHash
	case rolePatient:
		p, err := db.Patient.Get(sys, v.ID)
		if err != nil {
			return err
		}
		hash = p.PasswordHash
	default:
		a, err := db.Admin.Get(sys, v.ID)
		if err != nil {
			return err
		}
		hash = a.PasswordHash
	}
	if len(password) > maxPasswordLength || !auth.CheckPassword(hash, password) {
		if err := s.Limiter.Fail(ctx, account, v.ClientAddr); err != nil {
			return err
		}
		return gqlerr.BadInput(field, "the current password does not match")
	}
	return s.Limiter.Succeed(ctx, account)
}
