package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The load counts its failures by the contract's code, and by what went
// wrong when the answer carries none.
func TestPostNamesWhatWentWrong(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("Authorization") {
		case "Bearer ok":
			_, _ = w.Write([]byte(`{"data":{"bookAppointment":{"id":"7","status":"REQUESTED"}}}`))
		case "Bearer refused":
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"errors":[{"message":"busy","extensions":{"code":"RATE_LIMITED"}}]}`))
		case "Bearer nocode":
			_, _ = w.Write([]byte(`{"errors":[{"message":"odd"}],"data":null}`))
		case "Bearer slow":
			time.Sleep(300 * time.Millisecond)
		default:
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("bad gateway"))
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	p := newPoster(100 * time.Millisecond)
	ctx := context.Background()
	data, code := p.post(ctx, addr, "ok", []byte(`{}`))
	if code != "" || appointmentID(data, "bookAppointment") != "7" {
		t.Fatalf("answer: %q %s", code, data)
	}
	for tok, want := range map[string]string{"refused": "RATE_LIMITED", "nocode": "no code", "slow": "timeout", "other": "HTTP 502"} {
		if _, code := p.post(ctx, addr, tok, []byte(`{}`)); code != want {
			t.Errorf("%s: code %q, want %q", tok, code, want)
		}
	}
}
