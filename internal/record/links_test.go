package record

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/viewer"
)

func token(url string) string { return url[strings.LastIndex(url, "/")+1:] }

func TestLinksNameOneFileAndOneViewerForFiveMinutes(t *testing.T) {
	l := NewLinks([]byte("0123456789abcdef0123456789abcdef"), "https://api.example")
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	doc := viewer.Viewer{Role: viewer.Doctor, ID: 8589934593, SessionID: "GM3DJMRVGQ2TENBTGM3DCMZUGQ"}
	url := l.URL(17179869185, doc, now)
	if !strings.HasPrefix(url, "https://api.example/files/") {
		t.Fatalf("url %q", url)
	}
	got, err := l.parse(token(url), now.Add(LinkTTL-time.Second))
	if err != nil || got.FileID != 17179869185 || got.Viewer.Role != viewer.Doctor || got.Viewer.ID != doc.ID || got.Viewer.SessionID != doc.SessionID {
		t.Fatalf("parse = %+v, %v", got, err)
	}
	if got, err := l.parse(token(url), now.Add(LinkTTL)); !errors.Is(err, errLinkExpired) || got.FileID != 17179869185 {
		t.Fatalf("at expiry: %+v, %v", got, err)
	}
	tok := []byte(token(url))
	for i := range tok {
		bad := append([]byte{}, tok...)
		bad[i] ^= 1
		if _, err := l.parse(string(bad), now); err == nil {
			t.Fatalf("accepted the token altered at byte %d", i)
		}
	}
	other := NewLinks([]byte("another secret of thirty-two byte"), "https://api.example")
	if _, err := other.parse(token(url), now); !errors.Is(err, errLinkInvalid) {
		t.Fatalf("another secret: %v", err)
	}
	noSignIn, err := l.parse(token(l.URL(1, viewer.Viewer{Role: viewer.Patient, ID: 2}, now)), now)
	if err != nil || noSignIn.Viewer.SessionID != "" || noSignIn.Viewer.ID != 2 {
		t.Fatalf("a viewer with no sign-in (an external token's): %+v, %v", noSignIn, err)
	}
	for _, junk := range []string{"", "x", "../../etc/passwd", strings.Repeat("A", 500)} {
		if _, err := l.parse(junk, now); !errors.Is(err, errLinkInvalid) {
			t.Fatalf("junk %q: %v", junk, err)
		}
	}
}

func TestContentDisposition(t *testing.T) {
	cases := map[string]string{
		"laudo.pdf":          `attachment; filename="laudo.pdf"; filename*=UTF-8''laudo.pdf`,
		"exame de março.pdf": `attachment; filename="exame de mar_o.pdf"; filename*=UTF-8''exame%20de%20mar%C3%A7o.pdf`,
		`a"b\c.txt`:          `attachment; filename="a_b_c.txt"; filename*=UTF-8''a%22b%5Cc.txt`,
	}
	for in, want := range cases {
		if got := contentDisposition(in); got != want {
			t.Errorf("contentDisposition(%q) = %s, want %s", in, got, want)
		}
	}
}

// A download link's token is whatever a stranger puts in the path: it
// never panics, and one it accepts is exactly a link the server would
// have made (same file, viewer, sign-in and expiry).
func FuzzLinkToken(f *testing.F) {
	l := NewLinks([]byte("0123456789abcdef0123456789abcdef"), "https://api.example")
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	f.Add(token(l.URL(17, viewer.Viewer{Role: viewer.Patient, ID: 2, SessionID: "GM3DJMRVGQ2TENBTGM3DCMZUGQ"}, now)))
	f.Add(token(l.URL(1, viewer.Viewer{Role: viewer.Doctor, ID: 3}, now)))
	f.Add("")
	f.Add(strings.Repeat("A", 200))
	good := token(l.URL(5, viewer.Viewer{Role: viewer.Patient, ID: 9, SessionID: "S1"}, now))
	f.Add(good[:20] + "\n" + good[20:])
	f.Fuzz(func(t *testing.T, tok string) {
		got, err := l.parse(tok, now)
		if err != nil {
			return
		}
		if len(got.Viewer.SessionID) > maxSessionLen {
			t.Fatalf("accepted a sign-in of %d bytes", len(got.Viewer.SessionID))
		}
		if again := token(l.URL(got.FileID, got.Viewer, got.Expires.Add(-LinkTTL))); again != tok {
			t.Fatalf("accepted %q, which the server would have written %q", tok, again)
		}
	})
}
