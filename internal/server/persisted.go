package server

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

const reasonPersistedQuery = "PERSISTED_QUERY_INVALID"

func init() {
	errcode.RegisterErrorType(reasonPersistedQuery, errcode.KindProtocol)
}

// persistedQueries is gqlgen's automatic persisted queries with a code on
// every refusal: gqlgen gives none to bad APQ data or a hash that does not
// match, which would read as our fault. An unknown hash keeps gqlgen's
// message, which is what Apollo's link looks for before resending.
type persistedQueries struct {
	extension.AutomaticPersistedQuery
}

func (p persistedQueries) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	err := p.AutomaticPersistedQuery.MutateOperationParameters(ctx, raw)
	if err != nil && err.Extensions["code"] == nil {
		errcode.Set(err, reasonPersistedQuery)
	}
	return err
}
