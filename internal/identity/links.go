package identity

import (
	"context"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/accounttoken"
	"github.com/healthmed/healthmed/ent/notification"
	"github.com/healthmed/healthmed/internal/acctoken"
	"github.com/healthmed/healthmed/internal/clock"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/ratelimit"
	"github.com/healthmed/healthmed/internal/txn"
	"github.com/healthmed/healthmed/internal/viewer"
)

const (
	// VerifyTTL is how long a link that verifies an e-mail address works.
	VerifyTTL = 48 * time.Hour
	// ResetTTL is how long a password reset link works.
	ResetTTL = 30 * time.Minute
)

// ReasonInvalidLink is BAD_USER_INPUT's reason for a link's token that is
// unknown, used, expired or for something else: all read the same.
const ReasonInvalidLink = "INVALID_LINK"

// Throttles bounds the e-mailed links, per replica like the other
// in-memory limits (nil: no limit).
type Throttles struct {
	// Resend: links and e-mail changes an account or a registration asks
	// for (RATE_LIMITED).
	Resend *ratelimit.Limiter
	// ResetAccount: reset links sent to one account; past it requests are
	// answered as usual and send nothing, so the answer says nothing of
	// the account.
	ResetAccount *ratelimit.Limiter
	// Address: reset requests and links tried (verifyEmail,
	// resetPassword) per client address (RATE_LIMITED).
	Address *ratelimit.Limiter
}

// NewThrottles: three links at once and one a minute after that per
// account, per address perMinute requests a minute (0: none).
func NewThrottles(perMinute int, now func() time.Time) Throttles {
	return Throttles{
		Resend:       ratelimit.New(1, 3, now),
		ResetAccount: ratelimit.New(1, 3, now),
		Address:      ratelimit.New(perMinute, perMinute, now),
	}
}

func allow(l *ratelimit.Limiter, key string) error {
	if ok, retry := l.Allow(key); !ok {
		return gqlerr.RateLimitedError(retry)
	}
	return nil
}

// newLink stores a link's token: its nonce and the digest of the secret
// derived from it, never the secret.
func (s *Service) newLink(ctx context.Context, purpose accounttoken.Purpose, email string, ttl time.Duration) *ent.AccountTokenCreate {
	nonce := acctoken.NewNonce()
	return txn.Client(ctx, s.Client).AccountToken.Create().SetPurpose(purpose).SetEmail(email).
		SetNonce(nonce).SetTokenHash(acctoken.Digest(s.LinkKey.Secret(nonce))).
		SetExpiresAt(clock.UTC(s.Now).Add(ttl))
}

// sendLink stores the token and the notification that carries it (the
// outbox row the worker e-mails, to the token's address): n names the
// recipient, the kind follows the purpose.
func (s *Service) sendLink(ctx context.Context, t *ent.AccountTokenCreate, n *ent.NotificationCreate) error {
	tok, err := t.Save(viewer.SystemContext(ctx))
	if err != nil {
		return err
	}
	kind := notification.KindEMAIL_VERIFICATION
	if tok.Purpose == accounttoken.PurposeRESET_PASSWORD {
		kind = notification.KindPASSWORD_RESET
	}
	// In the request's transaction: the Notification schema wakes the
	// e-mail worker once it commits.
	return n.SetKind(kind).SetAccountTokenID(tok.ID).SetSendBefore(tok.ExpiresAt).Exec(viewer.SystemContext(ctx))
}

// sendRegistrationLink e-mails a registration its link.
func (s *Service) sendRegistrationLink(ctx context.Context, r *ent.Registration) error {
	db := txn.Client(ctx, s.Client)
	return s.sendLink(ctx, s.newLink(ctx, accounttoken.PurposeVERIFY_EMAIL, r.Email, VerifyTTL).SetRegistrationID(r.ID),
		db.Notification.Create().SetRegistrationID(r.ID))
}

// unsentRegistrationLink stores a link of a registration whose address
// is someone's account, and sends it nowhere: its secret exists nowhere,
// so it opens nothing; it only makes the registration's work the same as
// a new address's.
func (s *Service) unsentRegistrationLink(ctx context.Context, r *ent.Registration) error {
	return s.newLink(ctx, accounttoken.PurposeVERIFY_EMAIL, r.Email, VerifyTTL).SetRegistrationID(r.ID).
		Exec(viewer.SystemContext(ctx))
}

// sendAccountLink e-mails an account a link for purpose, to email.
func (s *Service) sendAccountLink(ctx context.Context, role string, id int, purpose accounttoken.Purpose, email string) error {
	ttl := VerifyTTL
	if purpose == accounttoken.PurposeRESET_PASSWORD {
		ttl = ResetTTL
	}
	t := s.newLink(ctx, purpose, email, ttl).SetAccountID(id)
	n := txn.Client(ctx, s.Client).Notification.Create()
	if role == roleDoctor {
		t.SetRole(accounttoken.RoleDOCTOR)
		n.SetDoctorID(id)
	} else {
		t.SetRole(accounttoken.RolePATIENT)
		n.SetPatientID(id)
	}
	return s.sendLink(ctx, t, n)
}

// claimLink uses up the token of secret for purpose: one conditional
// update, so of two uses one wins. Every failure reads the same.
func (s *Service) claimLink(ctx context.Context, secret string, purpose accounttoken.Purpose) (*ent.AccountToken, error) {
	if err := allow(s.Throttles.Address, viewer.FromContext(ctx).ClientAddr); err != nil {
		return nil, err
	}
	secret, ok := acctoken.Parse(secret)
	if !ok {
		return nil, invalidLink()
	}
	sys := viewer.SystemContext(ctx)
	db := txn.Client(ctx, s.Client)
	now := clock.UTC(s.Now)
	t, err := db.AccountToken.Query().Where(accounttoken.TokenHash(acctoken.Digest(secret)),
		accounttoken.PurposeEQ(purpose)).Only(sys)
	if ent.IsNotFound(err) {
		return nil, invalidLink()
	}
	if err != nil {
		return nil, err
	}
	n, err := db.AccountToken.Update().Where(accounttoken.ID(t.ID), accounttoken.UsedAtIsNil(),
		accounttoken.ExpiresAtGT(now)).SetUsedAt(now).Save(sys)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, invalidLink()
	}
	return t, nil
}

func invalidLink() error {
	return &gqlerr.Error{Code: gqlerr.BadUserInput, Field: "token", Reason: ReasonInvalidLink,
		Message: "the link is invalid, was already used or has expired"}
}
