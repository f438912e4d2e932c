package server

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/graph"
	"github.com/healthmed/healthmed/graph/generated"
	"github.com/healthmed/healthmed/internal/db"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/multipart"
	"github.com/healthmed/healthmed/internal/observe"
	"github.com/healthmed/healthmed/internal/ratelimit"
	"github.com/healthmed/healthmed/internal/viewer"
	"github.com/healthmed/healthmed/internal/wsgorilla"
)

// RootLimit throttles one root field per client address (an IPv6 client
// per /64) and, when signed in, per account: expensive operations (search, booking) must not let one
// client starve the others.
type RootLimit struct {
	PerAddress, PerAccount *ratelimit.Limiter
}

func rateLimited(limits map[string]RootLimit) graphql.RootFieldMiddleware {
	return func(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
		lim, ok := limits[graphql.GetRootFieldContext(ctx).Field.Name]
		if !ok || observe.IsWarmUp(ctx) {
			return next(ctx)
		}
		v := viewer.FromContext(ctx)
		if ok, wait := lim.PerAddress.Allow(ratelimit.AddressKey(v.ClientAddr)); !ok {
			graphql.AddError(ctx, gqlerr.RateLimitedError(wait))
			return graphql.Null
		}
		if v.ID != 0 {
			if ok, wait := lim.PerAccount.Allow(v.Role.String() + ":" + strconv.Itoa(v.ID)); !ok {
				graphql.AddError(ctx, gqlerr.RateLimitedError(wait))
				return graphql.Null
			}
		}
		return next(ctx)
	}
}

func scrubUncoded(log *slog.Logger) graphql.ResponseMiddleware {
	return func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		resp := next(ctx)
		if resp == nil {
			return nil
		}
		for i, e := range resp.Errors {
			if code, _ := e.Extensions["code"].(string); code != "" {
				continue
			}
			log.ErrorContext(ctx, "unexpected error", "err", e.Message, "request_id", RequestID(ctx))
			resp.Errors[i] = &gqlerror.Error{Message: "internal error", Path: e.Path,
				Extensions: map[string]any{"code": gqlerr.Internal, "requestId": RequestID(ctx)}}
		}
		return resp
	}
}

// websocketReadLimit bounds one client message: subscriptions are small
// documents, and the limit keeps a client from making us buffer much.
const websocketReadLimit = 64 << 10

// GraphQLOptions are the knobs of the GraphQL endpoint.
type GraphQLOptions struct {
	Dev             bool
	ComplexityLimit int
	MaxDepth        int
	MaxAliases      int
	// MaxFields bounds what a document expands to through its fragments.
	MaxFields int
	// MaxSameField bounds one response name's selections in one set.
	MaxSameField int
	// MaxTokens stops the parser early: a query of thousands of repeated
	// fields costs nothing past the limit.
	MaxTokens int
	// MaxUploadBytes bounds a multipart body (multipart.BodyLimit);
	// MaxOperationBytes its operations and map parts, as a JSON body is
	// bounded; MaxUploadFiles the files of one request.
	MaxUploadBytes    int64
	MaxOperationBytes int64
	MaxUploadFiles    int
	WebsocketInitWait time.Duration
	Websocket         transport.WebsocketImplementation
	// Drainer ends websocket connections on shutdown.
	Drainer *Drainer
	// SubscriptionsPerSocket and SubscriptionsPerAccount bound the open
	// subscriptions of a websocket and, on this replica, of an account;
	// 0 turns a bound off.
	SubscriptionsPerSocket  int
	SubscriptionsPerAccount int
	// PasswordFields are the root fields that run argon2id: an operation
	// holds one at most.
	PasswordFields map[string]bool
	// Recheck re-checks a socket's viewer before each operation on it;
	// SignIns closes a socket when its sign-in ends. Either may be nil.
	Recheck SignInChecker
	SignIns SignInWatcher
	// RootLimits rate-limits the named root fields.
	RootLimits map[string]RootLimit
	// GenericPlans are the mutations whose transactions run the generic
	// plans of their statements (db.GenericPlans), planned once per
	// connection: those whose plans the tests of bench check.
	GenericPlans map[string]bool
	// PerResponse prepares the context of each response (a query, a
	// mutation, or one subscription event): request-scoped loaders.
	PerResponse func(context.Context) context.Context
	// Outer extensions wrap every other one: their response
	// interceptors see what the client gets, and may answer without
	// running the rest (live.SharedResponses).
	Outer []graphql.HandlerExtension
}

// NewGraphQL builds the GraphQL handler with explicit transports; nothing
// is on by default that the options do not name.
func NewGraphQL(client *ent.Client, res *graph.Resolver, authn Authenticator, log *slog.Logger, o GraphQLOptions) *handler.Server {
	es := generated.NewExecutableSchema(generated.Config{Resolvers: res, Directives: graph.Directives(), Complexity: graph.Complexity()})
	srv := handler.New(es)
	srv.SetParserTokenLimit(o.MaxTokens)
	// "Did you mean ..." hints would map the schema for a prober.
	srv.SetDisableSuggestion(!o.Dev)
	readLimit := int64(websocketReadLimit)
	socks := sockets{authn: authn, recheck: o.Recheck, signIns: o.SignIns, drainer: o.Drainer, log: log}
	srv.AddTransport(wsgorilla.Detached{Websocket: transport.Websocket{
		Implementation:        o.Websocket,
		InitFunc:              countPerSocket(socks.init),
		InitTimeout:           o.WebsocketInitWait,
		KeepAlivePingInterval: 15 * time.Second,
		// No PingPongInterval: the websocket layer's own ping frames
		// (wsgorilla PingInterval) find dead peers for both protocols,
		// without a goroutine per socket for graphql-transport-ws pings.
		PayloadReadLimit: &readLimit,
	}, Keep: socketValues})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(queryGET{})
	srv.AddTransport(jsonPOST{})
	srv.AddTransport(multipart.Transport{MaxBodyBytes: o.MaxUploadBytes, MaxOperationBytes: o.MaxOperationBytes,
		MaxFiles: o.MaxUploadFiles, MaxMemory: 1 << 20, Schema: es.Schema(),
		SignedIn:     func(ctx context.Context) bool { return viewer.FromContext(ctx).ID != 0 },
		TokenRefused: staleToken,
		RequestID:    func(r *http.Request) string { return RequestID(r.Context()) }})
	srv.AddTransport(unsupported{})

	for _, e := range o.Outer {
		srv.Use(e)
	}
	// Before anything else runs for an operation on a socket.
	srv.Use(socks)
	srv.Use(staleTokens{})
	if o.SubscriptionsPerSocket > 0 || o.SubscriptionsPerAccount > 0 {
		srv.Use(newSubscriptionQuota(o.SubscriptionsPerSocket, o.SubscriptionsPerAccount))
	}
	if len(o.RootLimits) > 0 {
		srv.AroundRootFields(rateLimited(o.RootLimits))
	}
	if o.PerResponse != nil {
		srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
			return next(o.PerResponse(ctx))
		})
	}
	docs := lru.New[*ast.QueryDocument](1000)
	srv.SetQueryCache(docs)
	if o.Dev {
		srv.Use(extension.Introspection{})
	}
	srv.Use(persistedQueries{extension.AutomaticPersistedQuery{Cache: lru.New[string](100)}})
	// After the persisted query is looked up, before gqlgen parses and
	// validates the document, and so before the complexity walk.
	srv.Use(DocumentBounds{MaxTokens: o.MaxTokens, MaxDepth: o.MaxDepth, MaxAliases: o.MaxAliases,
		MaxFields: o.MaxFields, MaxSameField: o.MaxSameField, Accepted: docs})
	srv.Use(operationsByMethod{})
	if len(o.PasswordFields) > 0 {
		srv.Use(PasswordFields(o.PasswordFields))
	}
	srv.Use(&complexityLimit{limit: o.ComplexityLimit})
	// Outermost: whatever reaches the client carries a code. Some errors
	// skip the presenter (the transactioner's begin and commit failures
	// are built as raw responses) and would otherwise show driver text.
	srv.AroundResponses(scrubUncoded(log))
	// Every mutation runs in one transaction: a failed mutation changes
	// nothing.
	srv.Use(transactions{Transactioner: entgql.Transactioner{TxOpener: client}, generic: o.GenericPlans})
	srv.SetErrorPresenter(Presenter(log))
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in resolver", "panic", p, "stack", string(debug.Stack()),
			"request_id", RequestID(ctx))
		return &gqlerr.Error{Code: gqlerr.Internal, Message: "internal error"}
	})
	return srv
}

// transactions is entgql's Transactioner for the responses that belong to
// an operation. A request refused before it became one (gqlgen answers
// some unreadable requests through the response middleware) has nothing
// to run in a transaction, and entgql would panic looking for it. A
// mutation whose root fields are all in generic runs its transaction on
// generic plans (db.GenericPlans).
type transactions struct {
	entgql.Transactioner
	generic map[string]bool
}

func (t transactions) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	if t.allGeneric(graphql.GetOperationContext(ctx)) {
		ctx = db.GenericPlans(ctx)
	}
	return t.Transactioner.InterceptResponse(ctx, next)
}

func (t transactions) allGeneric(rc *graphql.OperationContext) bool {
	if len(t.generic) == 0 || rc.Operation == nil || rc.Operation.Operation != ast.Mutation {
		return false
	}
	fields := graphql.CollectFields(rc, rc.Operation.SelectionSet, []string{"Mutation"})
	for _, f := range fields {
		if !t.generic[f.Name] {
			return false
		}
	}
	return len(fields) > 0
}
