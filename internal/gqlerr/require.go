package gqlerr

import (
	"context"

	"github.com/healthmed/healthmed/internal/viewer"
)

// RequireRole returns the viewer when it has the role: otherwise
// UNAUTHENTICATED for an anonymous caller and FORBIDDEN for the wrong
// kind of account. what names who may ("patients").
func RequireRole(ctx context.Context, role viewer.Role, what string) (viewer.Viewer, error) {
	v := viewer.FromContext(ctx)
	switch {
	case v.Role == role && v.ID != 0:
		return v, nil
	case v.Role == viewer.Anonymous:
		return v, UnauthenticatedError()
	}
	return v, ForbiddenError("only " + what + " can do this")
}

// RequirePatient is RequireRole for patients.
func RequirePatient(ctx context.Context) (viewer.Viewer, error) {
	return RequireRole(ctx, viewer.Patient, "patients")
}

// RequireDoctor is RequireRole for doctors.
func RequireDoctor(ctx context.Context) (viewer.Viewer, error) {
	return RequireRole(ctx, viewer.Doctor, "doctors")
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
