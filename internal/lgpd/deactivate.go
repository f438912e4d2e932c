package lgpd

import (
	"context"
	"fmt"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/recordshare"
	"github.com/healthmed/healthmed/ent/session"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/txn"
	"github.com/healthmed/healthmed/internal/viewer"
	"github.com/healthmed/healthmed/internal/waitlist"
)

// DeactivatedName replaces a deactivated patient's name.
const DeactivatedName = "Paciente desativado"

// Deactivate closes the signed-in patient's account, after the password
// confirms it is them: the name, e-mail and password go, login and every
// token stop working, and live shares are revoked. The CPF, the clinical
// record and the access log stay: Brazilian rules require a medical record
// be kept for twenty years (CFM 1.821/2007; LGPD art. 16, I), and the CPF
// is what ties the kept record to the person if they ask for it again.
func (s *Service) Deactivate(ctx context.Context, password string) (bool, error) {
	v := viewer.FromContext(ctx)
	db := s.db(ctx)
	if err := s.Passwords.ConfirmPassword(ctx, "password", password); err != nil {
		return false, err
	}
	// Each read and write below is narrowed to the patient's own rows by
	// the privacy rules.
	busy, err := db.Appointment.Query().Where(
		appointment.StatusIn(appointment.StatusREQUESTED, appointment.StatusACCEPTED),
		appointment.EndsAtGT(s.now())).Exist(ctx)
	if err != nil {
		return false, err
	}
	if busy {
		return false, gqlerr.ConflictError(gqlerr.ReasonAppointmentActive, "cancel your upcoming appointments first")
	}
	now := s.now()
	live, err := db.RecordShare.Query().Where(recordshare.RevokedAtIsNil()).All(ctx)
	if err != nil {
		return false, err
	}
	for _, sh := range live {
		// One by one, so each doctor hears the share ended, as with
		// revokeShare.
		if err := sh.Update().SetRevokedAt(now).Exec(ctx); err != nil {
			return false, err
		}
	}
	// A closed account waits in no line, and a slot held for it goes to
	// the next patient.
	if err := waitlist.LeaveAll(ctx, db); err != nil {
		return false, err
	}
	// Every sign-in ends with the account.
	err = db.Session.Update().Where(session.RoleEQ(session.RolePATIENT), session.AccountID(v.ID),
		session.RevokedAtIsNil()).SetRevokedAt(now).Exec(viewer.SystemContext(ctx))
	if err != nil {
		return false, err
	}
	// The health-insurance card is personal, not clinical: it goes.
	if _, err := db.InsurancePlan.Delete().Exec(ctx); err != nil {
		return false, err
	}
	err = db.Patient.UpdateOneID(v.ID).
		SetName(DeactivatedName).
		SetEmail(fmt.Sprintf("deactivated-%d@invalid.healthmed", v.ID)).
		SetPasswordHash("!deactivated").
		// The profile's contact and personal details go with the name.
		ClearPhone().ClearBirthDate().ClearPreferredLanguage().
		SetDeactivatedAt(now).
		Exec(ctx)
	if err == nil && s.SignIns != nil {
		txn.AfterCommit(ctx, s.SignIns.ForgetLiveSignIns)
	}
	return err == nil, err
}

func (s *Service) db(ctx context.Context) *ent.Client { return txn.Client(ctx, s.Client) }
