package identity

import (
	"context"
	"errors"
	"strconv"

	"entgo.io/ent/dialect/sql"

	"github.com/healthmed/healthmed/ent/patient"
	"github.com/healthmed/healthmed/ent/predicate"
	"github.com/healthmed/healthmed/ent/session"
	"github.com/healthmed/healthmed/internal/auth"
	"github.com/healthmed/healthmed/internal/db"
	"github.com/healthmed/healthmed/internal/viewer"
)

// ErrUnauthenticated is returned for any token that does not identify an
// active doctor or patient.
var ErrUnauthenticated = auth.ErrUnauthenticated

// Authenticate verifies a bearer token and returns the viewer it names.
// Tokens of the external identity provider sign in to the account their
// identity is linked to (see mapExternal).
func (s *Service) Authenticate(ctx context.Context, raw string) (viewer.Viewer, error) {
	id, err := s.Verifier.Verify(ctx, raw)
	if err != nil {
		return viewer.Viewer{}, err
	}
	sys := viewer.SystemContext(ctx)
	v := viewer.Viewer{ExpiresAt: id.ExpiresAt, SessionID: id.SessionID}
	switch id.Role {
	case roleDoctor:
		v.Role = viewer.Doctor
	case rolePatient:
		v.Role = viewer.Patient
	case roleAdmin:
		v.Role = viewer.Admin
	case roleRegistrant:
		if id.External {
			return viewer.Viewer{}, errors.Join(ErrUnauthenticated, errors.New("unknown role"))
		}
		v.Role = viewer.Registrant
	default:
		return viewer.Viewer{}, errors.Join(ErrUnauthenticated, errors.New("unknown role"))
	}
	if id.External {
		if v.ID, err = s.mapExternal(sys, v.Role, id); err != nil {
			return viewer.Viewer{}, err
		}
		return v, nil
	}
	if v.ID, err = strconv.Atoi(id.Subject); err != nil {
		return viewer.Viewer{}, errors.Join(ErrUnauthenticated, err)
	}
	// Every token of ours belongs to a sign-in: one without could not be
	// ended by a logout, a password change or a deactivation.
	if id.SessionID == "" {
		return viewer.Viewer{}, errors.Join(ErrUnauthenticated, errors.New("token without a sign-in"))
	}
	if err := s.stillActive(sys, v); err != nil {
		return viewer.Viewer{}, err
	}
	return v, nil
}

// Recheck tells whether a viewer authenticated earlier (a websocket's,
// at its connection_init) is still signed in: its sign-in not ended, its
// account still active. The token's expiry is the caller's to check. It
// costs what Authenticate costs past the signature: the sign-in is
// remembered live for a second, the account is looked up.
func (s *Service) Recheck(ctx context.Context, v viewer.Viewer) error {
	return s.stillActive(viewer.SystemContext(ctx), v)
}

// stillActive checks the sign-in and the account behind a viewer. A
// patient's sign-in and account are checked together, in one statement,
// and a sign-in found live with its account active is taken as such for
// liveFor (see signedOut): a patient's requests in a row cost one look-up
// a second, not one each.
func (s *Service) stillActive(sys context.Context, v viewer.Viewer) error {
	if v.Role == viewer.Patient && v.SessionID != "" {
		if s.recentlyLive(v.SessionID) {
			return nil
		}
		// A deactivated patient's tokens stop working at once; so do
		// those of a sign-in that ended.
		// By keys: its generic plan serves every patient.
		ok, err := s.Client.Patient.Query().
			Where(patient.ID(v.ID), patient.DeactivatedAtIsNil(), signInLive(v.SessionID)).Exist(db.GenericPlans(sys))
		if err != nil {
			// A database failure is ours, not the caller's: it must not
			// read as a bad token.
			return err
		}
		if !ok {
			return errors.Join(ErrUnauthenticated, errors.New("signed out, or patient not active"))
		}
		s.rememberLive(v.SessionID)
		return nil
	}
	if v.SessionID != "" {
		// A sign-in that ended takes its access tokens with it, not
		// minutes later when they expire.
		out, err := s.signedOut(sys, v.SessionID)
		if err != nil {
			return err
		}
		if out {
			return errors.Join(ErrUnauthenticated, errors.New("signed out"))
		}
	}
	switch v.Role {
	case viewer.Admin:
		return s.checkAdmin(sys, v.ID)
	case viewer.Patient:
		ok, err := s.Client.Patient.Query().
			Where(patient.ID(v.ID), patient.DeactivatedAtIsNil()).Exist(sys)
		if err != nil {
			return err
		}
		if !ok {
			return errors.Join(ErrUnauthenticated, errors.New("patient not active"))
		}
	}
	return nil
}

// signInLive keeps the rows only while the sign-in family has not been
// revoked.
func signInLive(family string) predicate.Patient {
	return func(s *sql.Selector) {
		t := sql.Table(session.Table)
		s.Where(sql.NotExists(sql.Select(t.C(session.FieldID)).From(t).
			Where(sql.And(sql.EQ(t.C(session.FieldFamily), family), sql.NotNull(t.C(session.FieldRevokedAt))))))
	}
}
