package profile

import (
	"context"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/auditevent"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/rule"
	"github.com/healthmed/healthmed/internal/scalar"
	"github.com/healthmed/healthmed/internal/validate"
	"github.com/healthmed/healthmed/internal/viewer"
)

const (
	defaultFirst = 20
	maxFirst     = 100
	maxReasonLen = 500
	// registrySearchURL is the federal council's public search of
	// physicians, where an administrator looks a CRM number and state up.
	registrySearchURL = "https://portal.cfm.org.br/busca-medicos/"
)

// Awaiting pages through the doctors whose CRM the clinic has not checked
// yet, oldest registration first.
func (s *Service) Awaiting(ctx context.Context, first *int, after *scalar.Cursor) (*ent.DoctorConnection, error) {
	n, err := gqlerr.Page(first, defaultFirst, maxFirst)
	if err != nil {
		return nil, err
	}
	if err := scalar.Expect(after, scalar.KindID); err != nil {
		return nil, err
	}
	return s.db(ctx).Doctor.Query().Where(doctor.VerificationEQ(doctor.VerificationPENDING)).
		Paginate(ctx, after, &n, nil, nil)
}

// Verify records that an administrator found the doctor's CRM in the
// council's registry: from now on the doctor is listed and booked.
func (s *Service) Verify(ctx context.Context, id int) (*ent.Doctor, error) {
	return s.decide(ctx, id, doctor.VerificationVERIFIED, nil)
}

// Reject records that the CRM did not check out, with the reason the
// doctor is shown. A verified doctor can be rejected too (a CRM suspended
// later): they leave the search and take no new bookings; what is already
// booked stays for the parties to settle.
func (s *Service) Reject(ctx context.Context, id int, reason string) (*ent.Doctor, error) {
	r, err := text("reason", reason, maxReasonLen, true, true)
	if err != nil {
		return nil, err
	}
	return s.decide(ctx, id, doctor.VerificationREJECTED, &r)
}

// lockDoctor reads the doctor a decision or a correction is about and
// holds the row until the transaction ends, so two administrators' writes
// queue instead of both reading the same state.
func lockDoctor(ctx context.Context, db *ent.Client, id int) (*ent.Doctor, error) {
	d, err := db.Doctor.Query().Where(doctor.ID(id)).ForUpdate().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, gqlerr.NotFoundError("doctor")
	}
	return d, err
}

func (s *Service) decide(ctx context.Context, id int, to doctor.Verification, reason *string) (*ent.Doctor, error) {
	db := s.db(ctx)
	d, err := lockDoctor(ctx, db, id)
	if err != nil {
		return nil, err
	}
	if d.Verification == to {
		return nil, gqlerr.ConflictError(gqlerr.ReasonInvalidTransition, "the doctor is already "+string(to))
	}
	from := d.Verification
	u := db.Doctor.UpdateOne(d).SetVerification(to)
	action := auditevent.ActionVERIFY_DOCTOR
	if reason != nil {
		u.SetVerificationNote(*reason)
		action = auditevent.ActionREJECT_DOCTOR
	} else {
		u.ClearVerificationNote()
	}
	if d, err = u.Save(ctx); err != nil {
		return nil, err
	}
	v := viewer.FromContext(ctx)
	detail := string(from) + " -> " + string(to)
	if reason != nil {
		detail += ": " + *reason
	}
	if err := db.AuditEvent.Create().SetAction(action).SetAllowed(true).SetActorRole(v.Role.String()).
		SetActorID(v.ID).SetDoctorID(id).SetClientAddr(v.ClientAddr).SetDetail(detail).Exec(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// Verification is where the check of the doctor's CRM stands, for the
// doctor and the administrators; anyone else is refused.
func (s *Service) Verification(ctx context.Context, d *ent.Doctor) (Verification, error) {
	if !rule.SeesDoctorVerification(viewer.FromContext(ctx), d.ID) {
		return "", gqlerr.ForbiddenError("only the doctor and the administrators see the verification")
	}
	return Verification(d.Verification), nil
}

// RejectionReason is why the CRM was rejected, for the doctor and the
// administrators.
func (s *Service) RejectionReason(ctx context.Context, d *ent.Doctor) *string {
	if d.Verification != doctor.VerificationREJECTED || !rule.SeesDoctorVerification(viewer.FromContext(ctx), d.ID) {
		return nil
	}
	return d.VerificationNote
}

// CorrectCRM sets the doctor's CRM number and state, as an administrator
// found them in the registry. The CRM is otherwise immutable: the doctor
// cannot change it (internal/rule).
func (s *Service) CorrectCRM(ctx context.Context, id int, crm string) (*ent.Doctor, error) {
	number, state, err := validate.CRM(crm)
	if err != nil {
		return nil, fieldError("crm", err)
	}
	db := s.db(ctx)
	d, err := lockDoctor(ctx, db, id)
	if err != nil {
		return nil, err
	}
	was := validate.FormatCRM(d.CrmNumber, d.CrmState)
	if d, err = db.Doctor.UpdateOne(d).SetCrmNumber(number).SetCrmState(state).Save(ctx); err != nil {
		return nil, err
	}
	v := viewer.FromContext(ctx)
	if err := db.AuditEvent.Create().SetAction(auditevent.ActionCORRECT_CRM).SetAllowed(true).
		SetActorRole(v.Role.String()).SetActorID(v.ID).SetDoctorID(id).SetClientAddr(v.ClientAddr).
		SetDetail(was + " -> " + validate.FormatCRM(number, state)).Exec(ctx); err != nil {
		return nil, err
	}
	return d, nil
}
