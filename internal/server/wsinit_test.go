package server

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/healthmed/healthmed/internal/viewer"
)

type fakeAuthn map[string]viewer.Viewer

func (f fakeAuthn) Authenticate(_ context.Context, raw string) (viewer.Viewer, error) {
	if v, ok := f[raw]; ok {
		return v, nil
	}
	return viewer.Viewer{}, errors.New("bad token")
}

// TestWebsocketInitForgetsTheToken: connection_init takes the token in
// every shape clients send (README, "For front-end developers"), and
// none of them stays in the payload gqlgen keeps.
func TestWebsocketInitForgetsTheToken(t *testing.T) {
	authn := fakeAuthn{"good": {Role: viewer.Doctor, ID: 7}}
	for _, tc := range []struct {
		name    string
		payload transport.InitPayload
		ok      bool
	}{
		{"authorization", transport.InitPayload{"authorization": "Bearer good", "client": "web"}, true},
		{"Authorization", transport.InitPayload{"Authorization": "Bearer good", "client": "web"}, true},
		{"lower-case scheme", transport.InitPayload{"authorization": "bearer good", "client": "web"}, true},
		{"authToken", transport.InitPayload{"authToken": "good", "client": "web"}, true},
		{"authToken with the scheme", transport.InitPayload{"authToken": "Bearer good", "client": "web"}, true},
		{"token", transport.InitPayload{"token": "good", "client": "web"}, true},
		{"headers.Authorization", transport.InitPayload{"headers": map[string]any{"Authorization": "Bearer good"}, "client": "web"}, true},
		{"headers.authorization", transport.InitPayload{"headers": map[string]any{"authorization": "Bearer good"}, "client": "web"}, true},
		{"refused", transport.InitPayload{"authorization": "Bearer bad", "client": "web"}, false},
		{"another scheme", transport.InitPayload{"authorization": "Basic good", "client": "web"}, false},
		{"not a string", transport.InitPayload{"token": 42, "client": "web"}, false},
		{"no token", transport.InitPayload{"client": "web"}, false},
		{"every shape at once", transport.InitPayload{"authorization": "Bearer good", "Authorization": "Bearer good",
			"authToken": "good", "token": "good", "headers": map[string]any{"Authorization": "Bearer good"}, "client": "web"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, _, err := sockets{authn: authn, drainer: NewDrainer()}.init(context.Background(), tc.payload)
			if (err == nil) != tc.ok {
				t.Fatalf("err %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && viewer.FromContext(ctx).ID != 7 {
				t.Fatalf("viewer %+v", viewer.FromContext(ctx))
			}
			if len(tc.payload) != 1 || tc.payload["client"] != "web" {
				t.Fatalf("payload after init: %v (want only the token gone)", tc.payload)
			}
		})
	}
	// Headers other than the token stay where the client put them.
	p := transport.InitPayload{"headers": map[string]any{"Authorization": "Bearer good", "X-Client": "web"}}
	if _, _, err := (sockets{authn: authn, drainer: NewDrainer()}).init(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if h, _ := p["headers"].(map[string]any); len(h) != 1 || h["X-Client"] != "web" {
		t.Fatalf("headers after init: %v", p["headers"])
	}
}

// FuzzWebsocketInitToken: whatever a stranger puts in connection_init,
// reading the token neither fails nor leaves a token key behind, and
// yields a token only when there is one.
func FuzzWebsocketInitToken(f *testing.F) {
	for _, s := range []string{`{"authorization":"Bearer a"}`, `{"Authorization":"bearer  a "}`, `{"authToken":"a b"}`,
		`{"headers":{"Authorization":"Bearer a","X-Client":"web"}}`, `{"headers":{"authorization":7}}`,
		`{"token":5,"authorization":"Basic a"}`, `{"headers":"Bearer a"}`, `{}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var p transport.InitPayload
		if json.Unmarshal([]byte(s), &p) != nil || p == nil {
			return
		}
		raw, ok := initToken(p)
		if ok && (raw == "" || strings.ContainsAny(raw, " \t\r\n")) {
			t.Fatalf("token %q from %s", raw, s)
		}
		for _, k := range initTokenKeys {
			if _, left := p[k]; left {
				t.Fatalf("%s left in the payload of %s", k, s)
			}
		}
		if h, isMap := p["headers"].(map[string]any); isMap {
			if _, left := h["Authorization"]; left {
				t.Fatalf("headers.Authorization left in the payload of %s", s)
			}
			if _, left := h["authorization"]; left {
				t.Fatalf("headers.authorization left in the payload of %s", s)
			}
		}
	})
}
