// Package viewer carries who is making a request through the context, so
// that the Ent privacy rules can decide without reaching into HTTP.
package viewer

import (
	"context"
	"time"
)

// Role is what the caller is to the system.
type Role int

const (
	Anonymous Role = iota
	Patient
	Doctor
	// System is the server acting on its own behalf (migrations, seeding,
	// login look-ups, audit writes). It is never derived from a token.
	System
	// Admin is a clinic administrator: reports only, no patient data.
	Admin
	// Registrant is someone whose registration waits for its e-mail
	// link; ID is the registration's. They have no account yet: they may
	// ask for the link again and sign out, nothing else.
	Registrant
)

func (r Role) String() string {
	switch r {
	case Patient:
		return "patient"
	case Doctor:
		return "doctor"
	case System:
		return "system"
	case Admin:
		return "admin"
	case Registrant:
		return "registrant"
	default:
		return "anonymous"
	}
}

// Viewer is the caller. ID is the Ent id of the doctor or patient.
type Viewer struct {
	Role Role
	ID   int
	// ClientAddr is the caller's address, kept for the audit log.
	ClientAddr string
	// ExpiresAt is when the caller's token stops being valid: a
	// subscription opened with it ends then.
	ExpiresAt time.Time
	// SessionID is the sign-in the token belongs to, when it names one: a
	// subscription opened with it ends when the sign-in does.
	SessionID string
}

func (v Viewer) IsPatient() bool { return v.Role == Patient && v.ID != 0 }
func (v Viewer) IsDoctor() bool  { return v.Role == Doctor && v.ID != 0 }
func (v Viewer) IsSystem() bool  { return v.Role == System }
func (v Viewer) IsAdmin() bool   { return v.Role == Admin && v.ID != 0 }

// Is says whether v and o are the same account.
func (v Viewer) Is(o Viewer) bool { return v.Role == o.Role && v.ID == o.ID }

type ctxKey struct{}

// NewContext returns ctx carrying v.
func NewContext(ctx context.Context, v Viewer) context.Context {
	return context.WithValue(ctx, ctxKey{}, v)
}

// FromContext returns the viewer in ctx, or an anonymous one.
func FromContext(ctx context.Context) Viewer {
	v, _ := ctx.Value(ctxKey{}).(Viewer)
	return v
}

// SystemContext marks ctx as the server acting for itself.
func SystemContext(ctx context.Context) context.Context {
	v := FromContext(ctx)
	return NewContext(ctx, Viewer{Role: System, ClientAddr: v.ClientAddr})
}
