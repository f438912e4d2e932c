package server

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/lib/pq"
)

func TestCancelledTellsALeavingClientFromAFailure(t *testing.T) {
	live := context.Background()
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	queryCanceled := fmt.Errorf("agendaUpdated: %w", &pq.Error{Code: "57014"})
	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"context error", live, fmt.Errorf("wrapped: %w", context.Canceled), true},
		{"deadline", live, context.DeadlineExceeded, true},
		{"statement cancelled for a client that left", gone, queryCanceled, true},
		{"statement cancelled while the client waits", live, queryCanceled, false},
		{"another database error", gone, &pq.Error{Code: "23505"}, false},
		{"plain failure", gone, errors.New("boom"), false},
	} {
		if got := cancelled(tc.ctx, tc.err); got != tc.want {
			t.Errorf("%s: cancelled = %v, want %v", tc.name, got, tc.want)
		}
	}
}
