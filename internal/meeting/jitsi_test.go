package meeting

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func TestRoomsAreUnguessable(t *testing.T) {
	j := Jitsi{BaseURL: "https://meet.example.org/"}
	start := time.Date(2027, 1, 4, 12, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		r, err := j.Create(context.Background(), Request{StartsAt: start, EndsAt: start.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if seen[r.URL] || !strings.HasPrefix(r.URL, "https://meet.example.org/healthmed-") || len(r.URL) < 50 {
			t.Fatalf("room %q repeated or too short", r.URL)
		}
		seen[r.URL] = true
		if r.EndsAt.Sub(r.StartsAt) != 50*time.Minute {
			t.Fatalf("default duration %v", r.EndsAt.Sub(r.StartsAt))
		}
	}
	r := Room{URL: "https://meet.example.org/healthmed-abc"}
	if u, err := j.JoinURL(r, Participant{Name: "Ana"}); err != nil || u != r.URL {
		t.Fatalf("unsigned link %q %v", u, err)
	}
}

func TestSignedLinkIsValidOnlyAroundTheConsultation(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	j := Jitsi{BaseURL: "https://meet.example.org", AppID: "healthmed", AppSecret: secret}
	start := time.Date(2027, 1, 4, 12, 0, 0, 0, time.UTC)
	room := Room{URL: "https://meet.example.org/healthmed-room1", StartsAt: start, EndsAt: start.Add(50 * time.Minute)}
	for _, p := range []Participant{{Name: "Dr. Ana", Moderator: true}, {Name: "Pedro"}} {
		link, err := j.JoinURL(room, p)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(link)
		tok, err := jwt.ParseSigned(u.Query().Get("jwt"), []jose.SignatureAlgorithm{jose.HS256})
		if err != nil {
			t.Fatal(err)
		}
		var std jwt.Claims
		var extra struct {
			Room      string `json:"room"`
			Moderator bool   `json:"moderator"`
			Context   struct {
				User struct {
					Name      string `json:"name"`
					Moderator bool   `json:"moderator"`
				} `json:"user"`
			} `json:"context"`
		}
		if err := tok.Claims(secret, &std, &extra); err != nil {
			t.Fatalf("signature: %v", err)
		}
		if err := tok.Claims([]byte("another secret, same length!!!!!"), &std); err == nil {
			t.Fatal("verified with the wrong secret")
		}
		if extra.Room != "healthmed-room1" || extra.Moderator != p.Moderator || extra.Context.User.Name != p.Name {
			t.Fatalf("claims %+v for %+v", extra, p)
		}
		exp := jwt.Expected{Issuer: "healthmed", AnyAudience: jwt.Audience{"jitsi"}, Subject: "meet.example.org"}
		for _, at := range []time.Time{start.Add(-9 * time.Minute), start.Add(49 * time.Minute)} {
			if err := std.ValidateWithLeeway(exp.WithTime(at), 0); err != nil {
				t.Fatalf("at %v: %v", at, err)
			}
		}
		for _, at := range []time.Time{start.Add(-11 * time.Minute), start.Add(51 * time.Minute)} {
			if err := std.ValidateWithLeeway(exp.WithTime(at), 0); err == nil {
				t.Fatalf("valid at %v", at)
			}
		}
	}
}
