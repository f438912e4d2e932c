package identity

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/accounttoken"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/ent/patient"
	"github.com/healthmed/healthmed/ent/registration"
	"github.com/healthmed/healthmed/ent/session"
	"github.com/healthmed/healthmed/internal/clock"
	"github.com/healthmed/healthmed/internal/db"
	"github.com/healthmed/healthmed/internal/fresh"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/txn"
	"github.com/healthmed/healthmed/internal/viewer"
)

// DefaultSessionTTL is how long a sign-in lasts, however often it is
// refreshed, when Service.SessionTTL is zero.
const DefaultSessionTTL = 7 * 24 * time.Hour

// refreshPrefix marks refresh tokens, so that one pasted where an access
// token goes (or found in a log) is recognisable.
const refreshPrefix = "hmr_"

var sessionRoles = map[string]session.Role{
	roleDoctor: session.RoleDOCTOR, rolePatient: session.RolePATIENT, roleAdmin: session.RoleADMIN,
	roleRegistrant: session.RoleREGISTRATION,
}

func hashRefresh(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// issue signs an access token and opens a new sign-in for it.
func (s *Service) issue(ctx context.Context, id int, role string) (*AuthPayload, error) {
	// 128 random bits each.
	refresh := refreshPrefix + rand.Text()
	family, expires := rand.Text(), clock.UTC(s.Now).Add(cmp.Or(s.SessionTTL, DefaultSessionTTL))
	// In the mutation's transaction: a registration that fails opens no
	// session.
	err := txn.Client(ctx, s.Client).Session.Create().SetRole(sessionRoles[role]).SetAccountID(id).
		SetFamily(family).SetTokenHash(hashRefresh(refresh)).SetExpiresAt(expires).
		Exec(viewer.SystemContext(ctx))
	if err != nil {
		return nil, err
	}
	return s.pair(id, role, family, refresh, expires)
}

// pair signs an access token of the sign-in family to go with refresh.
func (s *Service) pair(id int, role, family, refresh string, expires time.Time) (*AuthPayload, error) {
	token, exp, err := s.Issuer.IssueSession(strconv.Itoa(id), role, family)
	if err != nil {
		return nil, err
	}
	return &AuthPayload{Token: token, ExpiresAt: exp.UTC().Truncate(time.Second),
		RefreshToken: refresh, RefreshExpiresAt: expires.UTC().Truncate(time.Second)}, nil
}

// successor is the refresh token that the exchange of token hands out:
// derived from it under a server secret, so that a repeat of the exchange
// finds the same one again while the database keeps only digests, and
// nobody holding token alone can work it out.
func (s *Service) successor(token string) string {
	mac := hmac.New(sha256.New, s.SuccessorKey)
	mac.Write([]byte("healthmed refresh successor\x00"))
	mac.Write([]byte(token))
	return refreshPrefix + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(mac.Sum(nil)[:16])
}

// wellFormed tells a refresh token from anything else without a lookup.
func wellFormed(token string) bool {
	return strings.HasPrefix(token, refreshPrefix) && len(token) <= 128
}

func refreshRefused() error {
	return &gqlerr.Error{Code: gqlerr.Unauthenticated, Message: "invalid or expired refresh token"}
}

// Refresh exchanges a refresh token for a new pair. The token is used up,
// but for RefreshReuse after its exchange: presenting it again then (a
// second tab, a retry after an answer lost on the network) gets the same
// new refresh token and an access token of the same sign-in. Presenting
// it later revokes the whole sign-in, since one of the two holders is
// not the account's owner.
func (s *Service) Refresh(ctx context.Context, token string) (*AuthPayload, error) {
	if !wellFormed(token) || len(s.SuccessorKey) == 0 {
		return nil, refreshRefused()
	}
	sys := viewer.SystemContext(ctx)
	db := txn.Client(ctx, s.Client)
	sess, err := db.Session.Query().Where(session.TokenHash(hashRefresh(token))).Only(sys)
	if ent.IsNotFound(err) {
		return nil, refreshRefused()
	}
	if err != nil {
		return nil, err
	}
	now := clock.UTC(s.Now)
	if !now.Before(sess.ExpiresAt) {
		return nil, refreshRefused()
	}
	revoked, err := familyEnded(sys, db, sess.Family)
	if err != nil {
		return nil, err
	}
	if revoked {
		return nil, refreshRefused()
	}
	// Before the claim below, which locks the row that revoke would then
	// wait for.
	role, account, err := s.sessionAccount(sys, sess)
	if errors.Is(err, ErrUnauthenticated) {
		if err := s.revoke(ctx, sess.Family, now); err != nil {
			return nil, err
		}
		return nil, refreshRefused()
	}
	if err != nil {
		return nil, err
	}
	next := s.successor(token)
	claimed, err := s.exchange(sys, sess, sessionRoles[role], account, next, now)
	if err != nil {
		return nil, err
	}
	if !claimed {
		again, err := s.repeated(sys, sess, next, now)
		if err != nil {
			return nil, err
		}
		if !again {
			if err := s.revoke(ctx, sess.Family, now); err != nil {
				return nil, err
			}
			s.Log.WarnContext(ctx, "refresh token used twice: sign-in revoked", "role", sess.Role, "account_id", sess.AccountID)
			return nil, refreshRefused()
		}
	}
	return s.pair(account, role, sess.Family, next, sess.ExpiresAt)
}

// exchange claims sess's token and opens the session of next (of the
// account sess now stands for: a registration's becomes its account's), in one
// transaction of its own: of two uses of the same token, one wins and
// the other, waiting on the row, finds it used and next in place. It
// commits outside the request's transaction, before the answer is
// written: a statement that waited and found the row used would keep its
// lock until the request's end, and revoke must be able to write the row
// meanwhile; and an answer lost on the way leaves the exchange made, for
// a repeat to find. claimed is false when the token was used already.
func (s *Service) exchange(sys context.Context, sess *ent.Session, role session.Role, account int, next string, now time.Time) (claimed bool, err error) {
	tx, err := s.Client.Tx(sys)
	if err != nil {
		return false, err
	}
	defer func() {
		if err != nil || !claimed {
			_ = tx.Rollback()
		}
	}()
	n, err := tx.Session.Update().Where(session.ID(sess.ID), session.UsedAtIsNil()).SetUsedAt(now).Save(sys)
	if err != nil || n == 0 {
		return false, err
	}
	err = tx.Session.Create().SetRole(role).SetAccountID(account).SetFamily(sess.Family).
		SetTokenHash(hashRefresh(next)).SetExpiresAt(sess.ExpiresAt).Exec(sys)
	if err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// repeated reports whether a used token is being presented again within
// RefreshReuse of its exchange, with the session of next in place.
func (s *Service) repeated(sys context.Context, sess *ent.Session, next string, now time.Time) (bool, error) {
	used, err := s.Client.Session.Query().Where(session.ID(sess.ID)).Only(sys)
	if err != nil {
		return false, err
	}
	// A concurrent exchange may have stamped a moment after this
	// request's now: the difference is then negative, and within.
	if s.RefreshReuse <= 0 || used.UsedAt == nil || now.Sub(*used.UsedAt) > s.RefreshReuse {
		return false, nil
	}
	return s.Client.Session.Query().Where(session.TokenHash(hashRefresh(next)), session.Family(sess.Family)).Exist(sys)
}

// sessionAccount returns the role and the account of a session whose
// account may still sign in. A registration's sign-in becomes the
// sign-in of the account its link made, once it is made.
func (s *Service) sessionAccount(sys context.Context, sess *ent.Session) (string, int, error) {
	var ok bool
	var err error
	switch sess.Role {
	case session.RoleADMIN:
		return roleAdmin, sess.AccountID, s.checkAdmin(sys, sess.AccountID)
	case session.RoleREGISTRATION:
		return s.registrationAccount(sys, sess.AccountID)
	case session.RoleDOCTOR:
		ok, err = s.Client.Doctor.Query().Where(doctor.ID(sess.AccountID)).Exist(sys)
	default:
		ok, err = s.Client.Patient.Query().Where(patient.ID(sess.AccountID), patient.DeactivatedAtIsNil()).Exist(sys)
	}
	if err != nil {
		return "", 0, err
	}
	if !ok {
		return "", 0, errors.Join(ErrUnauthenticated, errors.New("account not active"))
	}
	if sess.Role == session.RoleDOCTOR {
		return roleDoctor, sess.AccountID, nil
	}
	return rolePatient, sess.AccountID, nil
}

// registrationAccount is what a registration's sign-in refreshes to: the
// account once its link made it, the registration while it waits.
func (s *Service) registrationAccount(sys context.Context, id int) (string, int, error) {
	r, err := s.Client.Registration.Query().Where(registration.ID(id)).Only(sys)
	if ent.IsNotFound(err) {
		return "", 0, errors.Join(ErrUnauthenticated, errors.New("registration gone"))
	}
	if err != nil {
		return "", 0, err
	}
	switch {
	case r.AccountID != nil && r.Kind == registration.KindDOCTOR:
		return roleDoctor, *r.AccountID, nil
	case r.AccountID != nil:
		ok, err := s.Client.Patient.Query().Where(patient.ID(*r.AccountID), patient.DeactivatedAtIsNil()).Exist(sys)
		if err == nil && !ok {
			err = errors.Join(ErrUnauthenticated, errors.New("account not active"))
		}
		return rolePatient, *r.AccountID, err
	case !clock.UTC(s.Now).Before(r.ExpiresAt):
		return "", 0, errors.Join(ErrUnauthenticated, errors.New("registration expired"))
	}
	return roleRegistrant, id, nil
}

// Logout revokes the sign-in the refresh token belongs to. It answers the
// same whether or not the token meant anything.
func (s *Service) Logout(ctx context.Context, token string) (bool, error) {
	if !wellFormed(token) {
		return true, nil
	}
	sess, err := s.Client.Session.Query().Where(session.TokenHash(hashRefresh(token))).Only(viewer.SystemContext(ctx))
	if ent.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return true, s.revoke(ctx, sess.Family, clock.UTC(s.Now))
}

// revoke ends a sign-in. It writes outside the request's transaction: the
// request is about to fail, and the revocation must outlive its rollback.
func (s *Service) revoke(ctx context.Context, family string, now time.Time) error {
	err := s.Client.Session.Update().Where(session.Family(family), session.RevokedAtIsNil()).
		SetRevokedAt(now).Exec(viewer.SystemContext(ctx))
	s.forgetLive(family)
	return err
}

// forgetLive drops what this replica remembers of live sign-ins (all of
// them with no family given), so that it sees an ending at once; other
// replicas see it within liveFor.
func (s *Service) forgetLive(family string) {
	s.liveMu.Lock()
	defer s.liveMu.Unlock()
	if family == "" {
		s.live = nil
		return
	}
	delete(s.live, family)
}

// PurgeEnded deletes the sessions of sign-ins that have ended; their
// tokens are refused by their expiry already. It returns how many.
// Registrations whose link expired unfollowed, and links past their
// expiry, go with them.
func (s *Service) PurgeEnded(ctx context.Context) (int, error) {
	sys, now := viewer.SystemContext(ctx), clock.UTC(s.Now)
	n, err := s.Client.Session.Delete().Where(session.ExpiresAtLTE(now)).Exec(sys)
	if err != nil {
		return n, err
	}
	m, err := s.Client.AccountToken.Delete().Where(accounttoken.ExpiresAtLTE(now)).Exec(sys)
	if err != nil {
		return n + m, err
	}
	k, err := s.Client.Registration.Delete().Where(registration.ExpiresAtLTE(now), registration.CompletedAtIsNil()).Exec(sys)
	return n + m + k, err
}

// signedOut reports whether the sign-in family was ended (logout, a
// password change, a reused refresh token, deactivation). A sign-in found
// live is taken as live for liveFor, so that a busy client, or a
// thousand sockets of one screen wall opening at once, costs one query a
// second rather than one per request; an ended sign-in is seen within
// that second (at once on the replica that ended it), as open
// subscriptions see it (live.Signouts).
func (s *Service) signedOut(sys context.Context, family string) (bool, error) {
	if s.recentlyLive(family) {
		return false, nil
	}
	out, err := s.familyCheck(family).Get(sys)
	if err != nil || out {
		return out, err
	}
	s.rememberLive(family)
	return false, nil
}

// familyCheck is the look-up of family's sign-in that the checks asked
// at the same time share (fresh.Reads: each gets one that began after it
// asked, so a sign-out before the check is seen). Without it, when the
// pool is what a thousand sockets of one screen wall queue for, every
// check made while the first waits for a connection misses the remembered
// answer and queues a query of its own.
func (s *Service) familyCheck(family string) *fresh.Reads[bool] {
	s.liveMu.Lock()
	defer s.liveMu.Unlock()
	if r, ok := s.checks[family]; ok {
		return r
	}
	if s.checks == nil || len(s.checks) >= maxChecksKept {
		// A look-up is only shared while it runs: starting afresh loses
		// nothing but the sharing of those in progress.
		s.checks = map[string]*fresh.Reads[bool]{}
	}
	r := &fresh.Reads[bool]{Timeout: familyCheckTimeout, Read: func(ctx context.Context) (bool, error) {
		return familyEnded(viewer.SystemContext(ctx), s.Client, family)
	}}
	s.checks[family] = r
	return r
}

// recentlyLive reports whether the sign-in family was found live (its
// account active) less than liveFor ago.
func (s *Service) recentlyLive(family string) bool {
	s.liveMu.Lock()
	at, ok := s.live[family]
	s.liveMu.Unlock()
	return ok && time.Since(at) < liveFor
}

// rememberLive notes that the sign-in family was just found live.
func (s *Service) rememberLive(family string) {
	now := time.Now()
	s.liveMu.Lock()
	defer s.liveMu.Unlock()
	if s.live == nil || len(s.live) >= maxLiveCached {
		// Entries are only worth a second: starting afresh is cheaper
		// than sweeping.
		s.live = map[string]time.Time{}
	}
	s.live[family] = now
}

// ForgetLiveSignIns makes this replica check every sign-in again on its
// next request, as after an account was deactivated; other replicas see
// the change within liveFor.
func (s *Service) ForgetLiveSignIns() { s.forgetLive("") }

// familyEnded asks db whether the sign-in family was revoked.
func familyEnded(sys context.Context, client *ent.Client, family string) (bool, error) {
	// By key: its generic plan serves every sign-in.
	return client.Session.Query().Where(session.Family(family), session.RevokedAtNotNil()).Exist(db.GenericPlans(sys))
}

const (
	liveFor       = time.Second
	maxLiveCached = 100_000
	// maxChecksKept bounds the sign-ins with a shared look-up kept.
	maxChecksKept = 10_000
	// familyCheckTimeout bounds a shared look-up, which runs under none
	// of its callers' contexts.
	familyCheckTimeout = 10 * time.Second
)
