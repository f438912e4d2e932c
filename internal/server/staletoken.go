package server

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/healthmed/healthmed/internal/gqlerr"
)

// staleTokens refuses an operation sent with a bearer token that is not
// good (withGraphQLAuth let it through, anonymous and marked) with
// UNAUTHENTICATED and the reason: TOKEN_EXPIRED, which a refresh cures,
// or TOKEN_INVALID. Running it anonymous instead would answer a public
// query such as viewer as if the client had signed out. A mutation made
// only of @public fields runs anonymous: those take their credentials as
// arguments (refreshSession, the sign-ins), and a client must be able to
// send them with the stale header it still holds.
type staleTokens struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = staleTokens{}

func (staleTokens) ExtensionName() string                   { return "StaleTokens" }
func (staleTokens) Validate(graphql.ExecutableSchema) error { return nil }

func (staleTokens) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	reason := staleToken(ctx)
	// A socket is signed in by its connection_init, not by the headers
	// of its upgrade request.
	if on, _ := ctx.Value(onSocketKey{}).(bool); reason == "" || on {
		return next(ctx)
	}
	rc := graphql.GetOperationContext(ctx)
	if op := rc.Operation; op != nil && op.Operation == ast.Mutation && onlyPublic(rc.Doc, op.SelectionSet, map[string]bool{}) {
		return next(ctx)
	}
	return refuseOperation(ctx, gqlerr.Unauthenticated, reason, tokenMessage(reason))
}

// onlyPublic reports whether every root field of set, through fragments,
// is declared @public.
func onlyPublic(doc *ast.QueryDocument, set ast.SelectionSet, visiting map[string]bool) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__typename" {
				continue
			}
			if s.Definition == nil || s.Definition.Directives.ForName("public") == nil {
				return false
			}
		case *ast.InlineFragment:
			if !onlyPublic(doc, s.SelectionSet, visiting) {
				return false
			}
		case *ast.FragmentSpread:
			f := doc.Fragments.ForName(s.Name)
			if f == nil || visiting[s.Name] {
				return false
			}
			visiting[s.Name] = true
			ok := onlyPublic(doc, f.SelectionSet, visiting)
			delete(visiting, s.Name)
			if !ok {
				return false
			}
		}
	}
	return true
}
