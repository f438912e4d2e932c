package graph

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql"

	"github.com/healthmed/healthmed/graph/generated"
	"github.com/healthmed/healthmed/graph/model"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/viewer"
)

// Directives are the schema's checks that run before a resolver.
func Directives() generated.DirectiveRoot {
	return generated.DirectiveRoot{HasRole: HasRole}
}

var roles = map[model.Role]viewer.Role{
	model.RolePatient:    viewer.Patient,
	model.RoleDoctor:     viewer.Doctor,
	model.RoleAdmin:      viewer.Admin,
	model.RoleRegistrant: viewer.Registrant,
}

// HasRole is @hasRole: the field runs for a signed-in caller of one of
// allowed. Anyone else is refused before the resolver, so no service
// repeats the check: UNAUTHENTICATED when anonymous, and FORBIDDEN (or
// NOT_FOUND, where the field's objects must read as absent to the other
// party) when signed in as another kind of account.
func HasRole(ctx context.Context, _ any, next graphql.Resolver, allowed []model.Role, denied *model.Denial) (any, error) {
	want := make([]viewer.Role, len(allowed))
	for i, r := range allowed {
		want[i] = roles[r]
	}
	err := gqlerr.CheckRole(ctx, want...)
	var e *gqlerr.Error
	switch {
	case err == nil:
		return next(ctx)
	case errors.As(err, &e) && e.Code == gqlerr.Forbidden && denied != nil && *denied == model.DenialNotFound:
		return nil, gqlerr.NotFoundError("object")
	}
	return nil, err
}
