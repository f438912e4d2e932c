package server

import (
	"context"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// complexityLimit refuses an operation whose complexity (lists count
// times their page size, see graph/complexity.go) is over limit, with
// gqlgen's code and wording. It is gqlgen's FixedComplexityLimit without
// the statistics that one records on every operation: nothing here
// reads them, and a subscription keeps its operation for the life of
// its socket, so they would be a map per idle subscriber.
type complexityLimit struct {
	limit  int
	schema graphql.ExecutableSchema
}

var _ interface {
	graphql.OperationContextMutator
	graphql.HandlerExtension
} = &complexityLimit{}

const codeComplexityLimit = "COMPLEXITY_LIMIT_EXCEEDED"

func (*complexityLimit) ExtensionName() string { return "ComplexityLimit" }

func (c *complexityLimit) Validate(es graphql.ExecutableSchema) error {
	c.schema = es
	return nil
}

func (c *complexityLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	op := oc.Doc.Operations.ForName(oc.OperationName)
	if n := complexity.Calculate(ctx, c.schema, op, oc.Variables); n > c.limit {
		err := gqlerror.Errorf("operation has complexity %d, which exceeds the limit of %d", n, c.limit)
		errcode.Set(err, codeComplexityLimit)
		return err
	}
	return nil
}
