package live

import (
	"context"
	"encoding/json"
	"reflect"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/healthmed/healthmed/internal/viewer"
)

// SharedResponses is a gqlgen extension that executes an event once for
// all the subscriptions of one viewer running the same operation with the
// same variables, and hands each of them the same response. One doctor's
// agenda open on many screens, or a patient's appointment on a phone and
// two browser tabs, then costs one execution per event and replica, not
// one per socket; at ten thousand sockets that is most of a fan-out's CPU.
//
// Only the subscriptions of this package take part (see share): their
// values are shared per event and viewer already (memo), so the same
// value, operation and viewer always render to the same response. Two
// viewers never share anything, whatever they subscribe to.
//
// It must come before every other extension that changes responses: a
// cached response is returned as it was first produced, and must not be
// changed on the way out. Extensions before it see every response.
type SharedResponses struct {
	renders atomic.Int64
	hits    atomic.Int64
	cache   *memo[renderKey, *graphql.Response]
}

// NewSharedResponses returns the extension.
func NewSharedResponses() *SharedResponses {
	return &SharedResponses{cache: newMemo[renderKey, *graphql.Response](memoTTL)}
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = (*SharedResponses)(nil)

// ExtensionName implements graphql.HandlerExtension.
func (*SharedResponses) ExtensionName() string { return "LiveSharedResponses" }

// Validate implements graphql.HandlerExtension.
func (*SharedResponses) Validate(graphql.ExecutableSchema) error { return nil }

// Renders and Shared count the events executed and those answered from
// another subscription's execution.
func (s *SharedResponses) Renders() int64 { return s.renders.Load() }

// Shared: see Renders.
func (s *SharedResponses) Shared() int64 { return s.hits.Load() }

// renderKey is everything a subscription response depends on.
type renderKey struct {
	value any // the event as the viewer sees it, shared through memo
	role  viewer.Role
	id    int
	query string
	name  string
	vars  string
}

type shareKey struct{}

// share links one subscription's operation to its stream, set up by the
// resolver.
type share struct {
	key renderKey
	// Set by shareStream, on the subscription's goroutine, before the
	// first response is asked for.
	next    func() (any, bool)
	forward func(any)
	end     func()
}

// InterceptOperation sets up sharing for a subscription: the resolver
// opts in (see shareStream) while next runs it, and each event is then
// awaited here, ahead of gqlgen's own response handling, and executed only
// when no subscription of the same viewer and operation has done so.
//
// Waiting here rather than deeper down the chain matters for memory: the
// subscription's goroutine spends its life parked at this point, and the
// runtime only shrinks a parked goroutine's stack to 4 KiB when less than
// a quarter of it is in use.
func (s *SharedResponses) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil || oc.Operation.Operation != ast.Subscription {
		return next(ctx)
	}
	vars, err := json.Marshal(oc.Variables) // map keys come out sorted
	if err != nil {
		return next(ctx)
	}
	v := viewer.FromContext(ctx)
	sh := &share{key: renderKey{role: v.Role, id: v.ID, query: oc.RawQuery, name: oc.OperationName,
		vars: string(vars)}}
	inner := next(context.WithValue(ctx, shareKey{}, sh))
	if sh.next == nil {
		return inner // not one of ours, or refused before it started
	}
	return func(ctx context.Context) *graphql.Response {
		v, ok := sh.next()
		return s.respond(ctx, inner, sh, v, ok)
	}
}

// respond is kept out of line so that its locals do not weigh on the
// frame that waits for events.
//
//go:noinline
func (s *SharedResponses) respond(ctx context.Context, next graphql.ResponseHandler, sh *share, v any, ok bool) *graphql.Response {
	if !ok {
		sh.end()
		return next(ctx) // gqlgen reads the end of the stream itself
	}
	k := sh.key
	k.value = v
	rendered := false
	render := func() *graphql.Response {
		rendered = true
		s.renders.Add(1)
		sh.forward(v)
		return next(ctx)
	}
	resp, _, _ := s.cache.get(k, func() (*graphql.Response, bool, error) {
		r := render()
		return r, r != nil, nil
	})
	if rendered {
		return resp
	}
	if resp == nil {
		// The subscription that executed it was cancelled half-way: this
		// one renders its own.
		return render()
	}
	s.hits.Add(1)
	return resp
}

// shareStream puts the extension between a subscription's values and
// gqlgen when the operation takes part (see SharedResponses); otherwise it
// returns in.
func shareStream[T any](ctx context.Context, in <-chan T) <-chan T {
	sh, _ := ctx.Value(shareKey{}).(*share)
	if sh == nil || !reflect.TypeFor[T]().Comparable() {
		return in
	}
	out := make(chan T, 1)
	// A plain receive, no select on the context: the feed closes in when
	// the subscription's context ends (see feed.watch).
	sh.next = func() (any, bool) {
		v, ok := <-in
		return v, ok
	}
	sh.forward = func(v any) {
		// out is read right after, on the same goroutine; emptying it
		// first only matters if an inner interceptor ever skipped that
		// read.
		select {
		case <-out:
		default:
		}
		out <- v.(T)
	}
	closed := false
	sh.end = func() {
		if !closed {
			closed = true
			close(out)
		}
	}
	return out
}
