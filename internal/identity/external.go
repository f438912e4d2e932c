package identity

import (
	"context"
	"errors"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/admin"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/ent/externalidentity"
	"github.com/healthmed/healthmed/ent/patient"
	"github.com/healthmed/healthmed/internal/auth"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/txn"
	"github.com/healthmed/healthmed/internal/viewer"
)

var errNoLink = errors.Join(ErrUnauthenticated, errors.New("no account linked to the external identity"))

// mapExternal finds the account an external identity signs in to: the
// one it is linked to, or, on a first sign-in, the account whose e-mail
// both the provider and this server have verified, which it is then
// linked to. An e-mail that either side has not verified proves nothing:
// whoever registered the victim's address here first would otherwise
// receive the victim's provider sign-ins.
func (s *Service) mapExternal(sys context.Context, role viewer.Role, id auth.Identity) (int, error) {
	link, err := s.Client.ExternalIdentity.Query().
		Where(externalidentity.Issuer(id.Issuer), externalidentity.Subject(id.Subject)).Only(sys)
	switch {
	case err == nil:
		if string(link.Role) != role.String() {
			return 0, errors.Join(ErrUnauthenticated, errors.New("external identity linked to another kind of account"))
		}
		return link.AccountID, s.checkActive(sys, role, link.AccountID)
	case !ent.IsNotFound(err):
		return 0, err
	case !id.EmailVerified || id.Email == "":
		return 0, errNoLink
	}
	account, err := s.verifiedAccount(sys, role, id.Email)
	if ent.IsNotFound(err) {
		return 0, errNoLink
	}
	if err != nil {
		return 0, err
	}
	err = s.Client.ExternalIdentity.Create().SetIssuer(id.Issuer).SetSubject(id.Subject).
		SetRole(externalidentity.Role(role.String())).SetAccountID(account).Exec(sys)
	if ent.IsConstraintError(err) {
		// A concurrent first sign-in linked it, or the account already
		// has another identity of this provider: the link decides.
		return s.mapLinkedOnly(sys, role, id)
	}
	if err == nil {
		s.Log.InfoContext(sys, "external identity linked by verified e-mail", "role", role.String(), "account_id", account)
	}
	return account, err
}

func (s *Service) mapLinkedOnly(sys context.Context, role viewer.Role, id auth.Identity) (int, error) {
	link, err := s.Client.ExternalIdentity.Query().
		Where(externalidentity.Issuer(id.Issuer), externalidentity.Subject(id.Subject),
			externalidentity.RoleEQ(externalidentity.Role(role.String()))).Only(sys)
	if ent.IsNotFound(err) {
		return 0, errNoLink
	}
	if err != nil {
		return 0, err
	}
	return link.AccountID, s.checkActive(sys, role, link.AccountID)
}

// verifiedAccount is the active account of the role whose e-mail this
// server has verified.
func (s *Service) verifiedAccount(sys context.Context, role viewer.Role, email string) (int, error) {
	switch role {
	case viewer.Doctor:
		return s.Client.Doctor.Query().Where(doctor.Email(email), doctor.EmailVerifiedAtNotNil()).OnlyID(sys)
	case viewer.Admin:
		return s.Client.Admin.Query().
			Where(admin.Email(email), admin.EmailVerifiedAtNotNil(), admin.DisabledAtIsNil()).OnlyID(sys)
	}
	return s.Client.Patient.Query().
		Where(patient.Email(email), patient.EmailVerifiedAtNotNil(), patient.DeactivatedAtIsNil()).OnlyID(sys)
}

// checkActive refuses a linked account that was deactivated or disabled.
func (s *Service) checkActive(sys context.Context, role viewer.Role, id int) error {
	switch role {
	case viewer.Admin:
		return s.checkAdmin(sys, id)
	case viewer.Patient:
		ok, err := s.Client.Patient.Query().Where(patient.ID(id), patient.DeactivatedAtIsNil()).Exist(sys)
		if err == nil && !ok {
			err = errors.Join(ErrUnauthenticated, errors.New("patient not active"))
		}
		return err
	}
	return nil
}

// LinkExternalIdentity links the external provider's identity that token
// proves to the signed-in account, once the account's password is
// confirmed: a stolen access token alone must not be able to add a
// lasting way in. The token's role must be the account's.
func (s *Service) LinkExternalIdentity(ctx context.Context, token, password string) (bool, error) {
	v := viewer.FromContext(ctx)
	role, err := accountRole(v)
	if err != nil {
		return false, err
	}
	id, err := s.Verifier.Verify(ctx, token)
	switch {
	case errors.Is(err, auth.ErrUnauthenticated) || err == nil && !id.External:
		return false, gqlerr.BadInput("token", "the token is not a valid token of the external identity provider")
	case err != nil:
		return false, err
	case id.Role != role:
		return false, gqlerr.BadInput("token", "the token is for another kind of account")
	}
	if err := s.confirmPassword(ctx, v, role, "password", password); err != nil {
		return false, err
	}
	// A provider's identity is a lasting way in: it waits, like a first
	// sign-in by e-mail (mapExternal), for this server to have verified
	// the account's address.
	if err := s.requireVerified(ctx, role, v.ID); err != nil {
		return false, err
	}
	db := txn.Client(ctx, s.Client)
	existing, err := db.ExternalIdentity.Query().
		Where(externalidentity.Issuer(id.Issuer), externalidentity.Subject(id.Subject)).Only(viewer.SystemContext(ctx))
	switch {
	case err == nil && string(existing.Role) == role && existing.AccountID == v.ID:
		return true, nil
	case err == nil:
		return false, gqlerr.ConflictError(gqlerr.ReasonAlreadyLinked, "this external identity is linked to another account")
	case !ent.IsNotFound(err):
		return false, err
	}
	err = db.ExternalIdentity.Create().SetIssuer(id.Issuer).SetSubject(id.Subject).
		SetRole(externalidentity.Role(role)).SetAccountID(v.ID).Exec(ctx)
	if ent.IsConstraintError(err) {
		return false, gqlerr.ConflictError(gqlerr.ReasonAlreadyLinked, "this account or identity is already linked")
	}
	if err != nil {
		return false, err
	}
	s.Log.InfoContext(ctx, "external identity linked", "role", role, "account_id", v.ID)
	return true, nil
}
