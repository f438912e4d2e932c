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

// Provider creates rooms. Implementations must make room names
// unguessable: the link is the only thing between a stranger and the
// consultation when no signed token is configured.
type Provider interface {
	Create(ctx context.Context, r Request) (Room, error)
}
