package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// selected reports whether the client asked for a field of the object this
// resolver returns, so costly fields are computed only on demand.
func selected(ctx context.Context, field string) bool {
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name == field {
			return true
		}
	}
	return false
}
