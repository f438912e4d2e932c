package gqlerr

import (
	"context"
	"strings"

	"github.com/healthmed/healthmed/internal/viewer"
)

var roleNames = map[viewer.Role]string{
	viewer.Patient:    "patients",
	viewer.Doctor:     "doctors",
	viewer.Admin:      "clinic administrators",
	viewer.Registrant: "registrations waiting for their e-mail link",
}

// CheckRole refuses a caller who is not signed in as one of roles:
// UNAUTHENTICATED when anonymous, FORBIDDEN for another kind of account.
// Only the places that declare who may call what use it: the schema's
// @hasRole (graph) and the routes beside /graphql (internal/server).
func CheckRole(ctx context.Context, roles ...viewer.Role) error {
	v := viewer.FromContext(ctx)
	if v.ID != 0 {
		for _, r := range roles {
			if v.Role == r {
				return nil
			}
		}
	}
	if v.Role == viewer.Anonymous {
		return UnauthenticatedError()
	}
	if v.Role == viewer.Registrant {
		return EmailNotVerifiedError()
	}
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = roleNames[r]
	}
	return ForbiddenError("only " + strings.Join(names, " and ") + " can do this")
}

// Page bounds a connection's first argument: without it a connection
// would return everything.
func Page(first *int, def, max int) (int, error) {
	switch {
	case first == nil:
		return def, nil
	case *first < 0 || *first > max:
		return 0, BadInput("first", "first must be between 0 and %d", max)
	}
	return *first, nil
}
