package identity

import (
	"context"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/ent/notification"
	"github.com/healthmed/healthmed/ent/patient"
	"github.com/healthmed/healthmed/ent/registration"
	"github.com/healthmed/healthmed/internal/auth"
	"github.com/healthmed/healthmed/internal/clock"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/specialty"
	"github.com/healthmed/healthmed/internal/txn"
	"github.com/healthmed/healthmed/internal/validate"
	"github.com/healthmed/healthmed/internal/viewer"
)

// RegistrationTTL is how long a registration's e-mail link makes its
// account.
const RegistrationTTL = 48 * time.Hour

// Registration, and why it makes no account yet.
//
// A registration is kept as a pending row (ent/schema/registration.go)
// and answered with a sign-in of that registration (a Registrant viewer:
// it can say nothing about itself beyond `viewer: null`, ask for the
// link again and sign out). The account is made when the link e-mailed to
// the address is followed (VerifyEmail); the registrant's refresh token
// then signs in to it.
//
// This is what lets a registration of an e-mail, a CPF or a CRM that
// already has an account answer exactly like a new one: the same checks,
// the same argon2id hash, the same pending row and the same kind of
// sign-in, which opens nothing in either case, so nobody gets a working
// session for someone else's account and nobody learns from the answer
// whether the identifier was taken. What differs goes by e-mail, to the
// owners of the addresses involved: the holder of a taken e-mail gets a
// notice that someone tried instead of a link; the holder of a taken CPF
// or CRM gets the same notice, and a new address given with it still gets
// its link, whose account then cannot be made (CONFLICT/ALREADY_REGISTERED
// at verification): only someone who reads that mailbox learns it, one
// registration at a time, under the registration limit, and the owner is
// told. Format and check-digit errors are answered at once, as before:
// they say nothing about anyone's account.

// RegisterDoctor checks the input and records a doctor's registration
// (see above).
func (s *Service) RegisterDoctor(ctx context.Context, in RegisterDoctorInput) (*AuthPayload, error) {
	var f gqlerr.Fields
	name, err := requiredText("name", in.Name, 200)
	f.Add(err)
	email, err := validate.Email(in.Email)
	f.Add(validate.Field("email", err))
	f.Add(checkPassword("password", in.Password))
	number, state, err := validate.CRM(in.Crm)
	f.Add(validate.Field("crm", err))
	sp, err := specialty.Choose(ctx, s.Client, in.SpecialtyCode, in.Specialty, "specialtyCode", "specialty")
	if err != nil && gqlerr.Classify(err) == nil {
		return nil, err
	}
	f.Add(err)
	if in.PriceCents < 0 || in.PriceCents > maxPriceCents {
		f.Add(gqlerr.BadInput("priceCents", "priceCents must be between 0 and %d", maxPriceCents))
	}
	switch {
	case in.Location == nil:
		f.Add(gqlerr.BadInput("location", "location is required"))
	default:
		if err := in.Location.Validate(); err != nil {
			f.Add(gqlerr.BadInput("location", "%s", err.Error()))
		}
	}
	tz := ""
	if in.Timezone != nil {
		tz = *in.Timezone
	}
	tz, err = validate.Timezone(tz)
	f.Add(validate.Field("timezone", err))
	if err := f.Err(); err != nil {
		return nil, err
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	sys := viewer.SystemContext(ctx)
	db := txn.Client(ctx, s.Client)
	reg := db.Registration.Create().SetKind(registration.KindDOCTOR).
		SetName(name).SetEmail(email).SetPasswordHash(hash).
		SetCrmNumber(number).SetCrmState(state).SetSpecialty(sp.Name).SetPriceCents(in.PriceCents).
		SetLat(in.Location.Lat).SetLng(in.Location.Lng).SetTimezone(tz)
	emailOwner, err := owner(db.Doctor.Query().Where(doctor.Email(email)).FirstID(sys))
	if err != nil {
		return nil, err
	}
	crmOwner, err := owner(db.Doctor.Query().Where(doctor.CrmNumber(number), doctor.CrmState(state)).FirstID(sys))
	if err != nil {
		return nil, err
	}
	return s.register(ctx, reg, roleDoctor, emailOwner, crmOwner)
}

// RegisterPatient checks the input and records a patient's registration
// (see above).
func (s *Service) RegisterPatient(ctx context.Context, in RegisterPatientInput) (*AuthPayload, error) {
	var f gqlerr.Fields
	name, err := requiredText("name", in.Name, 200)
	f.Add(err)
	email, err := validate.Email(in.Email)
	f.Add(validate.Field("email", err))
	cpf, err := validate.CPF(in.Cpf)
	f.Add(validate.Field("cpf", err))
	f.Add(checkPassword("password", in.Password))
	if err := f.Err(); err != nil {
		return nil, err
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	sys := viewer.SystemContext(ctx)
	db := txn.Client(ctx, s.Client)
	reg := db.Registration.Create().SetKind(registration.KindPATIENT).
		SetName(name).SetEmail(email).SetPasswordHash(hash).SetCpf(cpf)
	emailOwner, err := owner(db.Patient.Query().Where(patient.Email(email)).FirstID(sys))
	if err != nil {
		return nil, err
	}
	cpfOwner, err := owner(db.Patient.Query().Where(patient.Cpf(cpf)).FirstID(sys))
	if err != nil {
		return nil, err
	}
	return s.register(ctx, reg, rolePatient, emailOwner, cpfOwner)
}

// owner is the account a unique value already belongs to, 0 when none.
func owner(id int, err error) (int, error) {
	if ent.IsNotFound(err) {
		return 0, nil
	}
	return id, err
}

// register stores the pending registration, sends what each address is
// owed (a link to a new address; to the owner of a taken e-mail or
// document, the notice that someone tried) and signs the registrant in.
// emailOwner and idOwner are the accounts holding the e-mail and the CPF
// or CRM, 0 for none.
func (s *Service) register(ctx context.Context, reg *ent.RegistrationCreate, role string, emailOwner, idOwner int) (*AuthPayload, error) {
	r, err := reg.SetExpiresAt(clock.UTC(s.Now).Add(RegistrationTTL)).Save(viewer.SystemContext(ctx))
	if err != nil {
		return nil, err
	}
	// Both branches write a link and one notification, so that the two
	// cost the same: a taken address's link is mailed to nobody.
	if emailOwner == 0 {
		err = s.sendRegistrationLink(ctx, r)
	} else if err = s.unsentRegistrationLink(ctx, r); err == nil {
		err = s.tellOwner(ctx, role, emailOwner)
	}
	if err != nil {
		return nil, err
	}
	if idOwner != 0 && idOwner != emailOwner {
		if err := s.tellOwner(ctx, role, idOwner); err != nil {
			return nil, err
		}
	}
	s.Log.InfoContext(ctx, "registration received", "kind", string(r.Kind), "registration_id", r.ID)
	return s.issue(ctx, r.ID, roleRegistrant)
}

// tellOwner tells the owner of an account that someone tried to register
// one of its identifiers.
func (s *Service) tellOwner(ctx context.Context, role string, id int) error {
	n := txn.Client(ctx, s.Client).Notification.Create().SetKind(notification.KindREGISTRATION_ATTEMPT)
	if role == roleDoctor {
		n.SetDoctorID(id)
	} else {
		n.SetPatientID(id)
	}
	return n.Exec(viewer.SystemContext(ctx))
}
