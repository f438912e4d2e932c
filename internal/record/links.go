package record

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"github.com/healthmed/healthmed/internal/viewer"
)

// LinkTTL is how long a download link works.
const LinkTTL = 5 * time.Minute

// Links signs download links. A link names one file, the one viewer it
// was made for and that viewer's sign-in; it is a bearer capability for
// five minutes, so that a browser can follow it without an Authorization
// header, and the download re-checks that viewer's access, and that the
// sign-in has not ended, before sending a byte.
type Links struct {
	secret  []byte
	baseURL string
}

// NewLinks returns a signer whose links start with baseURL (the server's
// public URL).
func NewLinks(secret []byte, baseURL string) *Links {
	return &Links{secret: secret, baseURL: baseURL}
}

// link is what a signed token says.
type link struct {
	FileID  int
	Viewer  viewer.Viewer
	Expires time.Time
}

const (
	// Version 2 added the sign-in; a version 1 link (at most five minutes
	// old when version 2 shipped) is refused.
	linkVersion = 2
	// the fixed part, then the sign-in's length and the sign-in itself
	fixedLen      = 1 + 8 + 1 + 8 + 8
	maxSessionLen = 64
	// linkContext keeps these MACs from being valid for any other use of
	// the same secret.
	linkContext = "healthmed download link"
)

var (
	errLinkInvalid = errors.New("link invalid")
	errLinkExpired = errors.New("link expired")
)

// URL returns the download link of file for v, valid from now.
func (l *Links) URL(fileID int, v viewer.Viewer, now time.Time) string {
	sid := v.SessionID
	if len(sid) > maxSessionLen {
		// Our own sign-ins are 26 characters; a longer one never comes
		// from this server, so the link is made to fail.
		sid = ""
		v.ID = 0
	}
	p := make([]byte, fixedLen, fixedLen+1+len(sid))
	p[0] = linkVersion
	binary.BigEndian.PutUint64(p[1:], uint64(fileID))
	p[9] = byte(v.Role)
	binary.BigEndian.PutUint64(p[10:], uint64(v.ID))
	binary.BigEndian.PutUint64(p[18:], uint64(now.Add(LinkTTL).Unix()))
	p = append(append(p, byte(len(sid))), sid...)
	token := base64.RawURLEncoding.EncodeToString(append(p, l.mac(p)...))
	return l.baseURL + "/files/" + token
}

// parse checks a token's signature and expiry. An expired link still says
// which file it named, for the audit row.
func (l *Links) parse(token string, now time.Time) (link, error) {
	// Strict: an altered unused bit must not leave the token valid. The
	// decoder skips CR and LF, so a link with one inside is refused first:
	// one link, one spelling.
	if strings.ContainsAny(token, "\r\n") {
		return link{}, errLinkInvalid
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) < fixedLen+1+sha256.Size || raw[0] != linkVersion {
		return link{}, errLinkInvalid
	}
	n := len(raw) - sha256.Size
	if sidLen := int(raw[fixedLen]); sidLen > maxSessionLen || fixedLen+1+sidLen != n {
		return link{}, errLinkInvalid
	}
	p, sig := raw[:n], raw[n:]
	if !hmac.Equal(sig, l.mac(p)) {
		return link{}, errLinkInvalid
	}
	out := link{
		FileID: int(binary.BigEndian.Uint64(p[1:])),
		Viewer: viewer.Viewer{Role: viewer.Role(p[9]), ID: int(binary.BigEndian.Uint64(p[10:])),
			SessionID: string(p[fixedLen+1:])},
		Expires: time.Unix(int64(binary.BigEndian.Uint64(p[18:])), 0),
	}
	if !now.Before(out.Expires) {
		return out, errLinkExpired
	}
	return out, nil
}

func (l *Links) mac(p []byte) []byte {
	m := hmac.New(sha256.New, l.secret)
	m.Write([]byte(linkContext))
	m.Write(p)
	return m.Sum(nil)
}
