package graph_test

import (
	"testing"

	"github.com/healthmed/healthmed/graph"
	"github.com/healthmed/healthmed/graph/generated"
)

// TestEveryRootFieldDeclaresItsCallers: each query, mutation and
// subscription says who may call it (@hasRole) or that anyone may
// (@public), so a new operation cannot be added without deciding.
func TestEveryRootFieldDeclaresItsCallers(t *testing.T) {
	s := generated.NewExecutableSchema(generated.Config{Directives: graph.Directives()}).Schema()
	for _, root := range []string{"Query", "Mutation", "Subscription"} {
		def := s.Types[root]
		if def == nil {
			t.Fatalf("no %s type", root)
		}
		for _, f := range def.Fields {
			if len(f.Name) > 1 && f.Name[:2] == "__" {
				continue // introspection, gated by the server's mode
			}
			role, public := f.Directives.ForName("hasRole"), f.Directives.ForName("public")
			switch {
			case role == nil && public == nil:
				t.Errorf("%s.%s declares neither @hasRole nor @public", root, f.Name)
			case role != nil && public != nil:
				t.Errorf("%s.%s declares both @hasRole and @public", root, f.Name)
			case role != nil && len(role.Arguments.ForName("roles").Value.Children) == 0:
				t.Errorf("%s.%s: @hasRole names no role", root, f.Name)
			}
		}
	}
}
