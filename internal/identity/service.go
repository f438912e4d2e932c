// Package identity registers and signs in doctors and patients, and turns a
// bearer token into the viewer the privacy rules see.
package identity

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/ent/patient"
	"github.com/healthmed/healthmed/internal/acctoken"
	"github.com/healthmed/healthmed/internal/auth"
	"github.com/healthmed/healthmed/internal/fresh"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/validate"
	"github.com/healthmed/healthmed/internal/viewer"
)

const (
	roleDoctor  = "doctor"
	rolePatient = "patient"
	// maxPasswordLength bounds the work a login can force on argon2.
	maxPasswordLength = 256
	maxPriceCents     = 100_000_000
)

// Service holds what registration, login and token checks need.
type Service struct {
	Client   *ent.Client
	Issuer   *auth.Issuer
	Verifier *auth.Verifier
	Limiter  auth.LoginLimiter
	Log      *slog.Logger
	// SessionTTL is how long a sign-in lasts, refreshes included
	// (DefaultSessionTTL when zero); Now is the clock.
	SessionTTL time.Duration
	Now        func() time.Time
	// LinkKey derives the secrets of e-mailed links (internal/acctoken);
	// Throttles bounds how often they are sent and tried.
	LinkKey   acctoken.Key
	Throttles Throttles
	// RefreshReuse is how long after its exchange a refresh token may be
	// presented again and get the same new one; 0 makes any reuse end the
	// sign-in.
	RefreshReuse time.Duration
	// SuccessorKey derives the refresh token an exchange hands out (32
	// random bytes or more, the same on every replica); without it no
	// refresh token is exchanged.
	SuccessorKey []byte

	liveMu sync.Mutex
	live   map[string]time.Time // sign-ins recently found live
	// checks are the look-ups of sign-ins in progress (familyCheck).
	checks map[string]*fresh.Reads[bool]
}

// LoginDoctor signs a doctor in by CRM and password.
func (s *Service) LoginDoctor(ctx context.Context, crm, password string) (*AuthPayload, error) {
	number, state, err := validate.CRM(crm)
	if err != nil {
		return nil, validate.Field("crm", err)
	}
	account := "doctor:" + validate.FormatCRM(number, state)
	return s.login(ctx, account, password, func(ctx context.Context) (int, string, bool, error) {
		d, err := s.Client.Doctor.Query().
			Where(doctor.CrmNumber(number), doctor.CrmState(state)).Only(ctx)
		if err != nil {
			return 0, "", false, err
		}
		return d.ID, d.PasswordHash, true, nil
	}, roleDoctor)
}

// LoginPatient signs a patient in by e-mail or CPF and password.
func (s *Service) LoginPatient(ctx context.Context, login, password string) (*AuthPayload, error) {
	var where func(*ent.PatientQuery)
	var account string
	if strings.Contains(login, "@") {
		email, err := validate.Email(login)
		if err != nil {
			return nil, validate.Field("login", err)
		}
		account, where = "patient:"+email, func(q *ent.PatientQuery) { q.Where(patient.Email(email)) }
	} else {
		cpf, err := validate.CPF(login)
		if err != nil {
			return nil, validate.Field("login", err)
		}
		account, where = "patient-cpf:"+cpf, func(q *ent.PatientQuery) { q.Where(patient.Cpf(cpf)) }
	}
	return s.login(ctx, account, password, func(ctx context.Context) (int, string, bool, error) {
		q := s.Client.Patient.Query()
		where(q)
		p, err := q.Only(ctx)
		if err != nil {
			return 0, "", false, err
		}
		return p.ID, p.PasswordHash, p.DeactivatedAt == nil, nil
	}, rolePatient)
}

type lookupFunc func(ctx context.Context) (id int, hash string, active bool, err error)

// login is the one path both kinds of account take, so throttling, timing
// and the error a failed attempt sees are the same whether or not the
// account exists. An existing account's failures are counted against the
// account itself, whichever of its logins (a patient's e-mail or CPF) was
// typed: otherwise each login would get its own allowance of guesses. A
// login that names no account is counted under what was typed.
func (s *Service) login(ctx context.Context, login, password string, lookup lookupFunc, role string) (*AuthPayload, error) {
	addr := viewer.FromContext(ctx).ClientAddr
	id, hash, active, err := lookup(viewer.SystemContext(ctx))
	if err != nil && !ent.IsNotFound(err) {
		return nil, err
	}
	account := login
	if err == nil {
		account = accountKey(role, id)
	}
	ok, retry, lerr := s.Limiter.Allow(ctx, account, addr)
	if lerr != nil {
		return nil, lerr
	}
	if !ok {
		return nil, gqlerr.RateLimitedError(retry)
	}
	if len(password) > maxPasswordLength {
		password = password[:maxPasswordLength]
	}
	if err != nil {
		auth.DummyCheck(password)
	}
	if err != nil || !auth.CheckPassword(hash, password) || !active {
		if ferr := s.Limiter.Fail(ctx, account, addr); ferr != nil {
			return nil, ferr
		}
		s.Log.InfoContext(ctx, "login failed", "role", role, "client_addr", addr)
		return nil, &gqlerr.Error{Code: gqlerr.Unauthenticated, Message: "invalid credentials"}
	}
	if err := s.Limiter.Succeed(ctx, account); err != nil {
		return nil, err
	}
	return s.issue(ctx, id, role)
}

// checkPassword checks a new password given in field.
func checkPassword(field, pw string) error {
	n := len([]rune(pw))
	if n < auth.MinPasswordLength {
		return gqlerr.BadInput(field, "password must have at least %d characters", auth.MinPasswordLength)
	}
	if len(pw) > maxPasswordLength {
		return gqlerr.BadInput(field, "password must have at most %d bytes", maxPasswordLength)
	}
	return nil
}

func requiredText(field, v string, max int) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", gqlerr.BadInput(field, "%s is required", field)
	}
	// Names reach e-mail headers and bodies and other people's screens: a
	// line break could add a header, a bidirectional override reverse what
	// is shown.
	if !utf8.ValidString(v) || strings.ContainsFunc(v, forbiddenInText) {
		return "", gqlerr.BadInput(field, "%s must not contain control or formatting characters", field)
	}
	if len([]rune(v)) > max {
		return "", gqlerr.BadInput(field, "%s must have at most %d characters", field, max)
	}
	return v, nil
}

// accountKey names an existing account in the login throttle: every way
// of proving its password (either login, changing the password, linking
// an identity) counts against the same allowance.
func accountKey(role string, id int) string { return role + "#" + strconv.Itoa(id) }

// forbiddenInText: control characters, and formatting ones other than the
// joiners some scripts and emoji need.
func forbiddenInText(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) && r != '\u200c' && r != '\u200d'
}
