package server

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/viewer"
)

// ReasonTooManySubscriptions comes with RATE_LIMITED when a socket or an
// account holds as many subscriptions as it may: the client should end
// one before it opens another. There is no retryAfterSeconds, since
// waiting frees nothing.
const ReasonTooManySubscriptions = "TOO_MANY_SUBSCRIPTIONS"

// subscriptionQuota bounds the subscriptions open at once on one socket
// and for one account. Each costs a goroutine in gqlgen and a feed in the
// hub, and a client could otherwise open thousands on a single socket.
// The account count is per replica: an account's sockets spread over N
// replicas may hold N times the limit, which bounds each replica's cost,
// the point of the limit.
type subscriptionQuota struct {
	perSocket, perAccount int

	mu       sync.Mutex
	accounts map[accountKey]int
}

type accountKey struct {
	role viewer.Role
	id   int
}

type socketCountKey struct{}

func newSubscriptionQuota(perSocket, perAccount int) *subscriptionQuota {
	return &subscriptionQuota{perSocket: perSocket, perAccount: perAccount, accounts: map[accountKey]int{}}
}

// countPerSocket gives each accepted socket its own count.
func countPerSocket(init transport.WebsocketInitFunc) transport.WebsocketInitFunc {
	return func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		ctx, ack, err := init(ctx, p)
		if err == nil {
			ctx = context.WithValue(ctx, socketCountKey{}, new(atomic.Int64))
		}
		return ctx, ack, err
	}
}

func (*subscriptionQuota) ExtensionName() string                   { return "SubscriptionQuota" }
func (*subscriptionQuota) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation gives a subscription a place before anything of it
// runs and takes it back when gqlgen ends the subscription (the
// operation's context ends then, whoever ends it). An operation, not a
// field, interceptor: a field middleware would run for every field of
// every answer to count the one root field of a subscription.
func (q *subscriptionQuota) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if op := graphql.GetOperationContext(ctx).Operation; op == nil || op.Operation != ast.Subscription {
		return next(ctx)
	}
	release, ok := q.take(ctx)
	if !ok {
		return refuseOperation(ctx, gqlerr.RateLimited, ReasonTooManySubscriptions,
			"too many open subscriptions; end one before opening another")
	}
	context.AfterFunc(ctx, release)
	return next(ctx)
}

func (q *subscriptionQuota) take(ctx context.Context) (release func(), ok bool) {
	sock, _ := ctx.Value(socketCountKey{}).(*atomic.Int64)
	if sock != nil && q.perSocket > 0 {
		if sock.Add(1) > int64(q.perSocket) {
			sock.Add(-1)
			return nil, false
		}
	}
	v := viewer.FromContext(ctx)
	k := accountKey{v.Role, v.ID}
	counted := v.ID != 0 && q.perAccount > 0
	if counted {
		q.mu.Lock()
		if q.accounts[k] >= q.perAccount {
			q.mu.Unlock()
			if sock != nil && q.perSocket > 0 {
				sock.Add(-1)
			}
			return nil, false
		}
		q.accounts[k]++
		q.mu.Unlock()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			if sock != nil && q.perSocket > 0 {
				sock.Add(-1)
			}
			if counted {
				q.mu.Lock()
				if q.accounts[k]--; q.accounts[k] <= 0 {
					delete(q.accounts, k)
				}
				q.mu.Unlock()
			}
		})
	}, true
}
