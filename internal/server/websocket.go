package server

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/healthmed/healthmed/internal/auth"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/requestid"
	"github.com/healthmed/healthmed/internal/viewer"
	"github.com/healthmed/healthmed/internal/wsgorilla"
)

// SignInChecker re-checks a viewer authenticated earlier: its sign-in or
// its account may have ended since (identity.Service). It answers an
// error wrapping auth.ErrUnauthenticated when the viewer is no longer
// signed in, any other error when it could not tell.
type SignInChecker interface {
	Recheck(ctx context.Context, v viewer.Viewer) error
}

// SignInWatcher calls end once the sign-in is found ended, or the
// patient's account deactivated, on whichever replica that happened
// (live.Signouts); stop forgets the watch.
type SignInWatcher interface {
	Watch(sessionID string, end func()) (stop func())
	WatchPatient(id int, end func()) (stop func())
}

// sockets keeps a websocket's identity for exactly as long as the token
// it was opened with is good. connection_init authenticates once; after
// that the socket closes with wsgorilla.CloseReauthenticate when the
// token expires or its sign-in ends (logout, a password change,
// deactivation, on any replica, within a second), and every operation
// started on it re-checks the viewer first. A standard client reconnects
// on that code and calls its connectionParams again, which is how it
// brings a fresh token.
//
// Websockets carry subscriptions only: queries and mutations go over
// HTTP, where every request is authenticated, bounded in size and time,
// and runs in its own transaction. (gqlgen runs a mutation's response
// interceptors a second time to learn the stream has ended, which would
// open a second transaction and panic in entgql's Transactioner.)
type sockets struct {
	authn   Authenticator
	recheck SignInChecker // nil: only the expiry is re-checked
	signIns SignInWatcher // nil: only the expiry ends a socket
	drainer *Drainer
	log     *slog.Logger
}

type onSocketKey struct{}

// The reasons init refuses a socket with, which are also the message of
// the legacy protocol's connection_error.
const (
	initMissingToken = "missing token"
	initBadToken     = "invalid or expired token"
	initRestarting   = "server restarting"
)

// ConnectionErrorExtensions puts the legacy protocol's connection_error
// in the contract's terms (wsgorilla.Options.ConnectionError): gqlgen
// writes it with its message alone, which is one of init's refusals or
// gqlgen's own for a message it cannot use. Anything else is a panic
// gqlgen recovered: ours.
func ConnectionErrorExtensions(ctx context.Context, message string) map[string]any {
	ext := map[string]any{"requestId": RequestID(ctx)}
	switch {
	case message == initMissingToken || message == initBadToken:
		ext["code"] = gqlerr.Unauthenticated
	case message == initRestarting:
		// Another replica takes the socket at once.
		ext["code"], ext["retryAfterSeconds"] = gqlerr.RateLimited, 1
	case message == "invalid json" || strings.HasPrefix(message, "unexpected message"):
		ext["code"] = gqlerr.BadUserInput
	default:
		ext["code"] = gqlerr.Internal
	}
	return ext
}

// socketValues is what a socket's conversation keeps of its upgrade
// request: the request id its log lines and errors carry, and the
// client's address (the viewer init authenticates starts from it). The
// request's token, if any, is not kept: connection_init brings the
// socket's own.
func socketValues(r context.Context) context.Context {
	ctx := requestid.NewContext(context.Background(), requestid.FromContext(r))
	return viewer.NewContext(ctx, viewer.Viewer{ClientAddr: viewer.FromContext(r).ClientAddr})
}

// init authenticates the connection_init payload: a subscription socket
// without a valid token is closed, never left open anonymous.
func (s sockets) init(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	refuse := func(code int, reason string) (context.Context, *transport.InitPayload, error) {
		return ctx, nil, wsgorilla.Refused{Code: code, Reason: reason}
	}
	raw, ok := initToken(p)
	if !ok {
		return refuse(wsgorilla.CloseReauthenticate, initMissingToken)
	}
	v, err := s.authn.Authenticate(ctx, raw)
	if err != nil {
		return refuse(wsgorilla.CloseReauthenticate, initBadToken)
	}
	v.ClientAddr = viewer.FromContext(ctx).ClientAddr
	ctx = context.WithValue(viewer.NewContext(ctx, v), onSocketKey{}, true)
	if s.drainer != nil {
		var open bool
		if ctx, open = s.drainer.track(ctx); !open {
			return refuse(wsgorilla.CloseServiceRestart, initRestarting)
		}
	}
	s.endWithSignIn(ctx, v)
	return ctx, nil, nil
}

// initTokenKeys are where clients put the token in connection_init, in
// the order they are read: {"authorization": "Bearer <token>"} (the
// contract's), "Authorization", "authToken" and "token" (Hasura's, AWS's
// and many tutorials' shapes, with or without "Bearer "), and
// {"headers": {"Authorization": "Bearer <token>"}} (what an HTTP link's
// headers look like, reused).
var initTokenKeys = []string{"authorization", "Authorization", "authToken", "token"}

// initToken finds the bearer token in a connection_init payload and takes
// every shape of it out: gqlgen keeps the payload for the life of the
// socket and offers it to every resolver, and once read the token has no
// business staying in memory that long.
func initToken(p transport.InitPayload) (string, bool) {
	var value string
	take := func(m map[string]any, key string) {
		v, ok := m[key]
		if !ok {
			return
		}
		delete(m, key)
		if s, ok := v.(string); ok && value == "" {
			value = s
		}
	}
	for _, k := range initTokenKeys {
		take(p, k)
	}
	if h, ok := p["headers"].(map[string]any); ok {
		take(h, "Authorization")
		take(h, "authorization")
		if len(h) == 0 {
			delete(p, "headers")
		}
	}
	if raw, ok := auth.BearerToken(value); ok {
		return raw, true
	}
	// A bare token: any other scheme ("Basic ...") has a space.
	if value != "" && !strings.ContainsAny(value, " \t\r\n") {
		return value, true
	}
	return "", false
}

// endWithSignIn closes the socket when v's token expires or its sign-in
// ends. What watches is released when the socket closes (its context
// ends then).
func (s sockets) endWithSignIn(ctx context.Context, v viewer.Viewer) {
	var expiry *time.Timer
	if !v.ExpiresAt.IsZero() {
		expiry = time.AfterFunc(time.Until(v.ExpiresAt), func() {
			wsgorilla.CloseSocket(ctx, wsgorilla.CloseReauthenticate, "token expired")
		})
	}
	signedOut := func() { wsgorilla.CloseSocket(ctx, wsgorilla.CloseReauthenticate, "signed out") }
	var unwatch func()
	switch {
	case s.signIns == nil:
	case v.SessionID != "":
		// Deactivation ends every sign-in too.
		unwatch = s.signIns.Watch(v.SessionID, signedOut)
	case v.IsPatient():
		// A token without a sign-in (an external provider's) still
		// ends with the account.
		unwatch = s.signIns.WatchPatient(v.ID, signedOut)
	}
	if expiry == nil && unwatch == nil {
		return
	}
	stop := func() {
		if expiry != nil {
			expiry.Stop()
		}
		if unwatch != nil {
			unwatch()
		}
	}
	if !wsgorilla.OnClose(ctx, stop) {
		context.AfterFunc(ctx, stop)
	}
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = sockets{}

func (sockets) ExtensionName() string                   { return "WebsocketOperations" }
func (sockets) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation admits a subscription on a socket only while the
// viewer is still signed in, and no query or mutation at all. It answers
// before any resolver, interceptor or transaction runs.
func (s sockets) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if on, _ := ctx.Value(onSocketKey{}).(bool); !on {
		return next(ctx)
	}
	if op := graphql.GetOperationContext(ctx).Operation; op == nil || op.Operation != ast.Subscription {
		return refuseOperation(ctx, gqlerr.BadUserInput, "SUBSCRIPTIONS_ONLY",
			"a websocket carries subscriptions only; send queries and mutations to POST /graphql")
	}
	if wsgorilla.Closing(ctx) {
		return refuseOperation(ctx, gqlerr.Unauthenticated, "", "the socket is closing")
	}
	v := viewer.FromContext(ctx)
	var err error
	if !v.ExpiresAt.IsZero() && !time.Now().Before(v.ExpiresAt) {
		err = auth.ErrUnauthenticated
	} else if s.recheck != nil {
		err = s.recheck.Recheck(ctx, v)
	}
	switch {
	case errors.Is(err, auth.ErrUnauthenticated):
		// The close frame goes first: the client sees the code, not the
		// refusal, and reconnects with a fresh token.
		wsgorilla.CloseSocket(ctx, wsgorilla.CloseReauthenticate, "signed out")
		return refuseOperation(ctx, gqlerr.Unauthenticated, "", "invalid or expired token")
	case err != nil:
		s.log.ErrorContext(ctx, "re-checking a socket's sign-in", "err", err.Error(), "request_id", RequestID(ctx))
		return refuseOperation(ctx, gqlerr.Internal, "", "internal error")
	}
	return next(ctx)
}

func refuseOperation(ctx context.Context, code, reason, msg string) graphql.ResponseHandler {
	ext := map[string]any{"code": code, "requestId": RequestID(ctx)}
	if reason != "" {
		ext["reason"] = reason
	}
	return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{Message: msg, Extensions: ext}}})
}
