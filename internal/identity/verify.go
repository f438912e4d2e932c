package identity

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/accounttoken"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/ent/patient"
	"github.com/healthmed/healthmed/ent/registration"
	"github.com/healthmed/healthmed/internal/clock"
	"github.com/healthmed/healthmed/internal/geo"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/specialty"
	"github.com/healthmed/healthmed/internal/txn"
	"github.com/healthmed/healthmed/internal/validate"
	"github.com/healthmed/healthmed/internal/viewer"
)

// VerifyEmail follows a verification link: it makes the account of a
// registration, or verifies an account's address (a new one, for an
// e-mail change). The link is the proof; whoever is signed in, if anyone,
// does not matter. CONFLICT/ALREADY_REGISTERED when the address (or the
// registration's CPF or CRM) has meanwhile become another account's.
func (s *Service) VerifyEmail(ctx context.Context, token string) (bool, error) {
	t, err := s.claimLink(ctx, token, accounttoken.PurposeVERIFY_EMAIL)
	if err != nil {
		return false, err
	}
	sys := viewer.SystemContext(ctx)
	db := txn.Client(ctx, s.Client)
	now := clock.UTC(s.Now)
	if t.RegistrationID != nil {
		return true, s.complete(ctx, *t.RegistrationID)
	}
	if t.AccountID == nil || t.Role == nil {
		return false, invalidLink()
	}
	id := *t.AccountID
	switch *t.Role {
	case accounttoken.RoleDOCTOR:
		err = db.Doctor.UpdateOneID(id).SetEmail(t.Email).SetEmailVerifiedAt(now).Exec(sys)
	default:
		err = db.Patient.UpdateOneID(id).Where(patient.DeactivatedAtIsNil()).SetEmail(t.Email).SetEmailVerifiedAt(now).Exec(sys)
	}
	if ent.IsNotFound(err) {
		return false, invalidLink()
	}
	if err != nil {
		return false, err
	}
	// The account's address is settled: the other links of an earlier
	// change must not switch it again.
	err = db.AccountToken.Update().Where(accounttoken.RoleEQ(*t.Role), accounttoken.AccountID(id),
		accounttoken.PurposeEQ(accounttoken.PurposeVERIFY_EMAIL), accounttoken.UsedAtIsNil()).
		SetUsedAt(now).Exec(sys)
	if err != nil {
		return false, err
	}
	s.Log.InfoContext(ctx, "e-mail verified", "role", strings.ToLower(string(*t.Role)), "account_id", id)
	return true, nil
}

// complete makes the account of a registration whose link was followed.
func (s *Service) complete(ctx context.Context, id int) error {
	sys := viewer.SystemContext(ctx)
	db := txn.Client(ctx, s.Client)
	now := clock.UTC(s.Now)
	r, err := db.Registration.Query().Where(registration.ID(id), registration.CompletedAtIsNil(),
		registration.ExpiresAtGT(now)).Only(sys)
	if ent.IsNotFound(err) {
		return invalidLink()
	}
	if err != nil {
		return err
	}
	var account int
	switch r.Kind {
	case registration.KindDOCTOR:
		var d *ent.Doctor
		// The registration keeps the catalogue entry's name it was given.
		var sp *ent.Specialty
		if sp, err = specialty.ByName(sys, s.Client, deref(r.Specialty)); err != nil {
			return err
		}
		create := db.Doctor.Create().SetName(r.Name).SetEmail(r.Email).SetPasswordHash(r.PasswordHash).
			SetCrmNumber(deref(r.CrmNumber)).SetCrmState(deref(r.CrmState)).SetSpecialty(deref(r.Specialty)).
			SetPriceCents(derefInt(r.PriceCents)).SetLocation(geo.Point{Lat: derefFloat(r.Lat), Lng: derefFloat(r.Lng)}).
			SetTimezone(deref(r.Timezone)).SetEmailVerifiedAt(now)
		if sp != nil {
			create.SetSpecialtyCode(sp.Code)
		}
		d, err = create.Save(sys)
		if err == nil {
			account = d.ID
		}
	default:
		var p *ent.Patient
		p, err = db.Patient.Create().SetName(r.Name).SetEmail(r.Email).SetPasswordHash(r.PasswordHash).
			SetCpf(deref(r.Cpf)).SetEmailVerifiedAt(now).Save(sys)
		if err == nil {
			account = p.ID
		}
	}
	if err != nil {
		return err
	}
	if err := db.Registration.UpdateOneID(r.ID).SetAccountID(account).SetCompletedAt(now).Exec(sys); err != nil {
		return err
	}
	s.Log.InfoContext(ctx, "registration completed", "kind", string(r.Kind), "account_id", account)
	return nil
}

// ResendVerificationEmail sends the signed-in account (or registration)
// a new link, throttled. A registration whose address turned out to be
// someone's account answers the same and sends nothing.
func (s *Service) ResendVerificationEmail(ctx context.Context) (bool, error) {
	v := viewer.FromContext(ctx)
	if err := allow(s.Throttles.Resend, v.Role.String()+"#"+strconv.Itoa(v.ID)); err != nil {
		return false, err
	}
	sys := viewer.SystemContext(ctx)
	db := txn.Client(ctx, s.Client)
	switch {
	case v.Role == viewer.Registrant:
		r, err := db.Registration.Get(sys, v.ID)
		if err != nil {
			return false, err
		}
		if r.CompletedAt != nil {
			return false, gqlerr.ConflictError(gqlerr.ReasonAlreadyVerified, "the e-mail address is verified already")
		}
		var taken bool
		if r.Kind == registration.KindDOCTOR {
			taken, err = db.Doctor.Query().Where(doctor.Email(r.Email)).Exist(sys)
		} else {
			taken, err = db.Patient.Query().Where(patient.Email(r.Email)).Exist(sys)
		}
		if err != nil {
			return false, err
		}
		if taken {
			return true, s.unsentRegistrationLink(ctx, r)
		}
		return true, s.sendRegistrationLink(ctx, r)
	}
	role, err := accountRole(v)
	if err != nil {
		return false, err
	}
	email, verified, err := s.accountEmail(sys, db, role, v.ID)
	if err != nil {
		return false, err
	}
	if verified {
		// A change under way: the newest address waiting for its link.
		t, err := db.AccountToken.Query().Where(accounttoken.RoleEQ(tokenRole(role)), accounttoken.AccountID(v.ID),
			accounttoken.PurposeEQ(accounttoken.PurposeVERIFY_EMAIL), accounttoken.UsedAtIsNil(),
			accounttoken.EmailNEQ(email)).Order(ent.Desc(accounttoken.FieldID)).First(sys)
		if ent.IsNotFound(err) {
			return false, gqlerr.ConflictError(gqlerr.ReasonAlreadyVerified, "the e-mail address is verified already")
		}
		if err != nil {
			return false, err
		}
		email = t.Email
	}
	return true, s.sendAccountLink(ctx, role, v.ID, accounttoken.PurposeVERIFY_EMAIL, email)
}

// ChangeEmail starts moving the signed-in account to a new address: the
// password confirms the owner (wrong guesses count against the login
// throttle), a link goes to the new address, and the account keeps its
// current, verified address until the link is followed.
func (s *Service) ChangeEmail(ctx context.Context, newEmail, password string) (bool, error) {
	v := viewer.FromContext(ctx)
	role, err := accountRole(v)
	if err != nil {
		return false, err
	}
	email, err := validate.Email(newEmail)
	if err != nil {
		return false, validate.Field("newEmail", err)
	}
	sys := viewer.SystemContext(ctx)
	db := txn.Client(ctx, s.Client)
	current, _, err := s.accountEmail(sys, db, role, v.ID)
	if err != nil {
		return false, err
	}
	if email == current {
		return false, gqlerr.BadInput("newEmail", "this is the account's address already")
	}
	if err := s.confirmPassword(ctx, v, role, "password", password); err != nil {
		return false, err
	}
	if err := allow(s.Throttles.Resend, v.Role.String()+"#"+strconv.Itoa(v.ID)); err != nil {
		return false, err
	}
	return true, s.sendAccountLink(ctx, role, v.ID, accounttoken.PurposeVERIFY_EMAIL, email)
}

// accountEmail is an account's address and whether it is verified. An
// administrator's address does not go through verification links (the
// schema keeps admins from the fields that ask): one here is our bug, and
// must not be looked up in the patients' table under the admin's id.
func (s *Service) accountEmail(sys context.Context, db *ent.Client, role string, id int) (string, bool, error) {
	switch role {
	case roleDoctor:
		d, err := db.Doctor.Get(sys, id)
		if err != nil {
			return "", false, err
		}
		return d.Email, d.EmailVerifiedAt != nil, nil
	case rolePatient:
		p, err := db.Patient.Get(sys, id)
		if err != nil {
			return "", false, err
		}
		return p.Email, p.EmailVerifiedAt != nil, nil
	}
	return "", false, fmt.Errorf("identity: a %s account has no e-mail of its own to verify", role)
}

// requireVerified refuses, with FORBIDDEN/EMAIL_NOT_VERIFIED, an
// account whose e-mail this server has not verified (one made before
// registrations waited for their link): linking an identity waits for it.
func (s *Service) requireVerified(ctx context.Context, role string, id int) error {
	sys := viewer.SystemContext(ctx)
	c := txn.Client(ctx, s.Client)
	var ok bool
	var err error
	switch role {
	case rolePatient:
		ok, err = c.Patient.Query().Where(patient.ID(id), patient.EmailVerifiedAtNotNil()).Exist(sys)
	case roleDoctor:
		ok, err = c.Doctor.Query().Where(doctor.ID(id), doctor.EmailVerifiedAtNotNil()).Exist(sys)
	default:
		return nil
	}
	if err != nil {
		return err
	}
	if !ok {
		return gqlerr.EmailNotVerifiedError()
	}
	return nil
}

func tokenRole(role string) accounttoken.Role {
	if role == roleDoctor {
		return accounttoken.RoleDOCTOR
	}
	return accounttoken.RolePATIENT
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefInt(v *int) int {
	if v == nil {
		return 0
	}
	return *v
}

func derefFloat(v *float64) float64 {
	if v == nil {
		return 0
	}
	return *v
}
