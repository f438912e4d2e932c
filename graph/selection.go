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

// nodeFields names the fields the client selected on the nodes of the
// connection this resolver returns (edges { node { ... } }), through
// fragments on the node's type or interface too.
func nodeFields(ctx context.Context, typ string) []string {
	op := graphql.GetOperationContext(ctx)
	names := []string{}
	for _, e := range graphql.CollectFieldsCtx(ctx, []string{typ + "Connection"}) {
		if e.Name != "edges" {
			continue
		}
		for _, n := range graphql.CollectFields(op, e.Selections, []string{typ + "Edge"}) {
			if n.Name != "node" {
				continue
			}
			for _, f := range graphql.CollectFields(op, n.Selections, []string{typ, "Node"}) {
				names = append(names, f.Name)
			}
		}
	}
	return names
}
