package server

import (
	"context"
	"errors"
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

func TestWebsocketInitForgetsTheToken(t *testing.T) {
	authn := fakeAuthn{"good": {Role: viewer.Doctor, ID: 7}}
	for _, tc := range []struct {
		name    string
		payload transport.InitPayload
		ok      bool
	}{
		{"accepted", transport.InitPayload{"authorization": "Bearer good", "client": "web"}, true},
		{"accepted, capitalised key", transport.InitPayload{"Authorization": "Bearer good", "client": "web"}, true},
		{"refused", transport.InitPayload{"authorization": "Bearer bad", "client": "web"}, false},
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
}
