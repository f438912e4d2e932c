package meeting

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"strings"
	"time"
)

// Jitsi makes rooms on a Jitsi Meet deployment.
type Jitsi struct {
	// BaseURL is the deployment, e.g. https://meet.jit.si.
	BaseURL string
	// Duration of a consultation from the slot start; 50 minutes when 0.
	Duration time.Duration
}

var roomEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// Create returns a room with a 160-bit random name.
func (j Jitsi) Create(_ context.Context, r Request) (Room, error) {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return Room{}, err
	}
	d := j.Duration
	if d <= 0 {
		d = 50 * time.Minute
	}
	base := strings.TrimRight(j.BaseURL, "/")
	if base == "" {
		base = "https://meet.jit.si"
	}
	name := "healthmed-" + strings.ToLower(roomEncoding.EncodeToString(b))
	return Room{URL: base + "/" + name, StartsAt: r.StartsAt, EndsAt: r.StartsAt.Add(d)}, nil
}
