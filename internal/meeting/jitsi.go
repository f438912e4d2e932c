package meeting

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Jitsi makes rooms on a Jitsi Meet deployment. With an app id and
// secret (the deployment's token authentication), every link carries a
// signed token valid only around the consultation, naming the doctor as
// moderator; without them the unguessable room name is the only guard.
type Jitsi struct {
	// BaseURL is the deployment, e.g. https://meet.jit.si.
	BaseURL string
	// Duration of a consultation from the slot start; 50 minutes when 0.
	Duration  time.Duration
	AppID     string
	AppSecret []byte
}

// EarlyJoin is how long before the start a participant may enter.
const EarlyJoin = 10 * time.Minute

var roomEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func (j Jitsi) base() string {
	if b := strings.TrimRight(j.BaseURL, "/"); b != "" {
		return b
	}
	return "https://meet.jit.si"
}

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
	name := "healthmed-" + strings.ToLower(roomEncoding.EncodeToString(b))
	return Room{URL: j.base() + "/" + name, StartsAt: r.StartsAt, EndsAt: r.StartsAt.Add(d)}, nil
}

// JoinURL is the link one participant opens.
func (j Jitsi) JoinURL(room Room, p Participant) (string, error) {
	if j.AppID == "" || len(j.AppSecret) == 0 {
		return room.URL, nil
	}
	u, err := url.Parse(room.URL)
	if err != nil {
		return "", err
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		return "", errors.New("meeting: room URL has no room name")
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: j.AppSecret},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	claims := jwt.Claims{
		Issuer:    j.AppID,
		Subject:   u.Host,
		Audience:  jwt.Audience{"jitsi"},
		NotBefore: jwt.NewNumericDate(room.StartsAt.Add(-EarlyJoin)),
		Expiry:    jwt.NewNumericDate(room.EndsAt),
	}
	extra := map[string]any{
		"room":      name,
		"moderator": p.Moderator,
		"context":   map[string]any{"user": map[string]any{"name": p.Name, "moderator": p.Moderator}},
	}
	tok, err := jwt.Signed(signer).Claims(claims).Claims(extra).Serialize()
	if err != nil {
		return "", err
	}
	return room.URL + "?jwt=" + url.QueryEscape(tok), nil
}
