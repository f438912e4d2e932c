// Package meeting creates the video rooms of accepted consultations.
package meeting

import (
	"context"
	"time"
)

// Request describes the consultation a room is for.
type Request struct {
	AppointmentID int
	StartsAt      time.Time
	EndsAt        time.Time
}

// Room is a created video room.
type Room struct {
	URL      string
	StartsAt time.Time
	EndsAt   time.Time
}

// Participant is who opens a link.
type Participant struct {
	Name      string
	Moderator bool
}

// Provider creates rooms and the links participants open. Room names must
// be unguessable: the link is the only thing between a stranger and the
// consultation when no signed token is configured.
type Provider interface {
	Create(ctx context.Context, r Request) (Room, error)
	JoinURL(room Room, p Participant) (string, error)
}
