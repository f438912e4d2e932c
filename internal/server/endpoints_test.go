package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/requestid"
	"github.com/healthmed/healthmed/internal/viewer"
)

// TestEndpointsDeclareTheirCallersAndAnswerErrorsAlike: a route's roles
// are checked before its handler, and whatever the handler returns is
// answered in one shape: the contract code, its status, the request id,
// and for our own mistakes INTERNAL with a log line and nothing more.
func TestEndpointsDeclareTheirCallersAndAnswerErrorsAlike(t *testing.T) {
	patient := viewer.Viewer{Role: viewer.Patient, ID: 9}
	for _, tc := range []struct {
		name       string
		roles      []viewer.Role
		v          viewer.Viewer
		err        error
		status     int
		code       string
		retryAfter string
		logged     bool
	}{
		{"served", []viewer.Role{viewer.Patient}, patient, nil, 200, "", "", false},
		{"anonymous", []viewer.Role{viewer.Patient}, viewer.Viewer{}, nil, 401, gqlerr.Unauthenticated, "", false},
		{"another kind of account", []viewer.Role{viewer.Patient}, viewer.Viewer{Role: viewer.Doctor, ID: 9}, nil, 403, gqlerr.Forbidden, "", false},
		{"the server is no caller", []viewer.Role{viewer.Patient}, viewer.Viewer{Role: viewer.System}, nil, 403, gqlerr.Forbidden, "", false},
		{"anyone, for a link", anyone, viewer.Viewer{}, nil, 200, "", "", false},
		{"not found", anyone, patient, gqlerr.NotFoundError("file"), 404, gqlerr.NotFound, "", false},
		{"rate limited", anyone, patient, gqlerr.RateLimitedError(1500 * time.Millisecond), 429, gqlerr.RateLimited, "2", false},
		{"our mistake", anyone, patient, errors.New("blob store: connection refused"), 500, gqlerr.Internal, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := serve(slog.New(slog.NewJSONHandler(&logs, nil)), tc.roles, func(w http.ResponseWriter, r *http.Request) error {
				if tc.err != nil {
					return tc.err
				}
				_, _ = w.Write([]byte("ok"))
				return nil
			})
			r := httptest.NewRequest(http.MethodGet, "/x", nil)
			r = r.WithContext(viewer.NewContext(requestid.NewContext(r.Context(), "rid"), tc.v))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if got := w.Header().Get("Retry-After"); got != tc.retryAfter {
				t.Fatalf("Retry-After %q, want %q", got, tc.retryAfter)
			}
			if (logs.Len() > 0) != tc.logged {
				t.Fatalf("logged %q, want a log line: %v", logs.String(), tc.logged)
			}
			if tc.code == "" {
				return
			}
			var body struct {
				Errors []struct {
					Message    string
					Extensions map[string]any
				}
			}
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || len(body.Errors) != 1 {
				t.Fatalf("body %s: %v", w.Body, err)
			}
			e := body.Errors[0]
			if e.Extensions["code"] != tc.code || e.Extensions["requestId"] != "rid" {
				t.Fatalf("extensions %v", e.Extensions)
			}
			if strings.Contains(e.Message, "connection refused") {
				t.Fatalf("our error reached the client: %q", e.Message)
			}
		})
	}
}
