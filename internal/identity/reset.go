package identity

import (
	"context"
	"strings"

	"github.com/healthmed/healthmed/ent/accounttoken"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/ent/patient"
	"github.com/healthmed/healthmed/ent/session"
	"github.com/healthmed/healthmed/internal/auth"
	"github.com/healthmed/healthmed/internal/clock"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/txn"
	"github.com/healthmed/healthmed/internal/validate"
	"github.com/healthmed/healthmed/internal/viewer"
)

// RequestPasswordReset e-mails a reset link to the accounts login names:
// an e-mail (a patient's and a doctor's, when both exist), a CPF or a CRM
// ("123456/SP"). It answers true whether or not any account exists; past
// an account's own limit it sends nothing and still answers true. Only
// the per-address limit (every request counts, whatever it names)
// answers RATE_LIMITED, and a login of no known form BAD_USER_INPUT.
func (s *Service) RequestPasswordReset(ctx context.Context, login string) (bool, error) {
	if err := allow(s.Throttles.Address, viewer.FromContext(ctx).ClientAddr); err != nil {
		return false, err
	}
	login = strings.TrimSpace(login)
	sys := viewer.SystemContext(ctx)
	db := txn.Client(ctx, s.Client)
	type account struct {
		role  string
		id    int
		email string
	}
	var found []account
	switch {
	case strings.Contains(login, "@"):
		email, err := validate.Email(login)
		if err != nil {
			return false, validate.Field("login", err)
		}
		ps, err := db.Patient.Query().Where(patient.Email(email), patient.DeactivatedAtIsNil()).All(sys)
		if err != nil {
			return false, err
		}
		for _, p := range ps {
			found = append(found, account{rolePatient, p.ID, p.Email})
		}
		ds, err := db.Doctor.Query().Where(doctor.Email(email)).All(sys)
		if err != nil {
			return false, err
		}
		for _, d := range ds {
			found = append(found, account{roleDoctor, d.ID, d.Email})
		}
	case strings.Contains(login, "/"):
		number, state, err := validate.CRM(login)
		if err != nil {
			return false, validate.Field("login", err)
		}
		ds, err := db.Doctor.Query().Where(doctor.CrmNumber(number), doctor.CrmState(state)).All(sys)
		if err != nil {
			return false, err
		}
		for _, d := range ds {
			found = append(found, account{roleDoctor, d.ID, d.Email})
		}
	default:
		cpf, err := validate.CPF(login)
		if err != nil {
			return false, validate.Field("login", err)
		}
		ps, err := db.Patient.Query().Where(patient.Cpf(cpf), patient.DeactivatedAtIsNil()).All(sys)
		if err != nil {
			return false, err
		}
		for _, p := range ps {
			found = append(found, account{rolePatient, p.ID, p.Email})
		}
	}
	for _, a := range found {
		if ok, _ := s.Throttles.ResetAccount.Allow(accountKey(a.role, a.id)); !ok {
			s.Log.InfoContext(ctx, "password reset not sent: the account's limit", "role", a.role, "account_id", a.id)
			continue
		}
		if err := s.sendAccountLink(ctx, a.role, a.id, accounttoken.PurposeRESET_PASSWORD, a.email); err != nil {
			return false, err
		}
	}
	return true, nil
}

// ResetPassword follows a reset link: it sets the new password, ends
// every sign-in of the account, uses up the account's other reset links
// and opens a new sign-in. Following the link proves the mailbox, so an
// address not yet verified is verified by it.
func (s *Service) ResetPassword(ctx context.Context, token, newPassword string) (*AuthPayload, error) {
	var f gqlerr.Fields
	f.Add(checkPassword("newPassword", newPassword))
	if err := f.Err(); err != nil {
		return nil, err
	}
	t, err := s.claimLink(ctx, token, accounttoken.PurposeRESET_PASSWORD)
	if err != nil {
		return nil, err
	}
	if t.AccountID == nil || t.Role == nil {
		return nil, invalidLink()
	}
	sys := viewer.SystemContext(ctx)
	db := txn.Client(ctx, s.Client)
	now := clock.UTC(s.Now)
	id, role := *t.AccountID, rolePatient
	hash, err := auth.HashPassword(newPassword)
	if err != nil {
		return nil, err
	}
	if *t.Role == accounttoken.RoleDOCTOR {
		role = roleDoctor
		d, gerr := db.Doctor.Get(sys, id)
		if gerr != nil {
			return nil, invalidLink()
		}
		u := db.Doctor.UpdateOne(d).SetPasswordHash(hash)
		if d.EmailVerifiedAt == nil && d.Email == t.Email {
			u.SetEmailVerifiedAt(now)
		}
		err = u.Exec(sys)
	} else {
		p, gerr := db.Patient.Query().Where(patient.ID(id), patient.DeactivatedAtIsNil()).Only(sys)
		if gerr != nil {
			return nil, invalidLink()
		}
		u := db.Patient.UpdateOne(p).SetPasswordHash(hash)
		if p.EmailVerifiedAt == nil && p.Email == t.Email {
			u.SetEmailVerifiedAt(now)
		}
		err = u.Exec(sys)
	}
	if err != nil {
		return nil, err
	}
	err = db.Session.Update().Where(session.RoleEQ(sessionRoles[role]), session.AccountID(id), session.RevokedAtIsNil()).
		SetRevokedAt(now).Exec(sys)
	if err != nil {
		return nil, err
	}
	err = db.AccountToken.Update().Where(accounttoken.RoleEQ(*t.Role), accounttoken.AccountID(id),
		accounttoken.PurposeEQ(accounttoken.PurposeRESET_PASSWORD), accounttoken.UsedAtIsNil()).
		SetUsedAt(now).Exec(sys)
	if err != nil {
		return nil, err
	}
	s.forgetLive("")
	s.Log.InfoContext(ctx, "password reset", "role", role, "account_id", id)
	return s.issue(ctx, id, role)
}
