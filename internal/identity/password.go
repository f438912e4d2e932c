package identity

import (
	"context"

	"github.com/healthmed/healthmed/ent/admin"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/ent/patient"
	"github.com/healthmed/healthmed/ent/session"
	"github.com/healthmed/healthmed/graph/model"
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
func (s *Service) ChangePassword(ctx context.Context, current, next string) (*model.AuthPayload, error) {
	v := viewer.FromContext(ctx)
	var role string
	switch v.Role {
	case viewer.Doctor:
		role = roleDoctor
	case viewer.Patient:
		role = rolePatient
	case viewer.Admin:
		role = roleAdmin
	default:
		return nil, gqlerr.UnauthenticatedError()
	}
	if err := checkPassword("newPassword", next); err != nil {
		return nil, err
	}
	if next == current {
		return nil, gqlerr.BadInput("newPassword", "the new password must differ from the current one")
	}
	account := auth.ConfirmAccount(role, v.ID)
	ok, retry, err := s.Limiter.Allow(ctx, account, v.ClientAddr)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, gqlerr.RateLimitedError(retry)
	}
	sys := viewer.SystemContext(ctx)
	db := txn.Client(ctx, s.Client)
	var hash string
	switch role {
	case roleDoctor:
		d, err := db.Doctor.Get(sys, v.ID)
		if err != nil {
			return nil, err
		}
		hash = d.PasswordHash
	case rolePatient:
		p, err := db.Patient.Get(sys, v.ID)
		if err != nil {
			return nil, err
		}
		hash = p.PasswordHash
	default:
		a, err := db.Admin.Get(sys, v.ID)
		if err != nil {
			return nil, err
		}
		hash = a.PasswordHash
	}
	if len(current) > maxPasswordLength || !auth.CheckPassword(hash, current) {
		if err := s.Limiter.Fail(ctx, account, v.ClientAddr); err != nil {
			return nil, err
		}
		return nil, gqlerr.BadInput("currentPassword", "the current password does not match")
	}
	if err := s.Limiter.Succeed(ctx, account); err != nil {
		return nil, err
	}
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
	return s.issue(ctx, v.ID, role, nil)
}
