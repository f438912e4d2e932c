package server

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// QueryShape refuses operations nested deeper or aliasing more than the
// limits, before any resolver runs: gqlgen bounds neither by itself.
type QueryShape struct {
	MaxDepth   int
	MaxAliases int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = QueryShape{}

func (QueryShape) ExtensionName() string                   { return "QueryShape" }
func (QueryShape) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext measures the chosen operation.
func (q QueryShape) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	op := rc.Doc.Operations.ForName(rc.OperationName)
	if op == nil {
		return nil
	}
	m := measure{doc: rc.Doc, visiting: map[string]bool{}}
	depth := m.depth(op.SelectionSet)
	switch {
	case q.MaxDepth > 0 && depth > q.MaxDepth:
		return limitError("DEPTH_LIMIT_EXCEEDED", "operation is nested %d levels deep, the limit is %d", depth, q.MaxDepth)
	case q.MaxAliases > 0 && m.aliases > q.MaxAliases:
		return limitError("ALIAS_LIMIT_EXCEEDED", "operation uses %d aliases, the limit is %d", m.aliases, q.MaxAliases)
	}
	return nil
}

func limitError(reason, format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	errcode.Set(err, reason)
	return err
}

type measure struct {
	doc      *ast.QueryDocument
	aliases  int
	visiting map[string]bool
}

// depth walks fields, inline fragments and fragment spreads. Introspection
// fields are not counted: the IDE's schema query is deep by nature and is
// off outside development anyway.
func (m *measure) depth(set ast.SelectionSet) int {
	deepest := 0
	for _, sel := range set {
		d := 0
		switch s := sel.(type) {
		case *ast.Field:
			if strings.HasPrefix(s.Name, "__") {
				continue
			}
			if s.Alias != "" && s.Alias != s.Name {
				m.aliases++
			}
			d = 1 + m.depth(s.SelectionSet)
		case *ast.InlineFragment:
			d = m.depth(s.SelectionSet)
		case *ast.FragmentSpread:
			// A fragment cycle is a validation error; do not loop on it.
			if m.visiting[s.Name] {
				continue
			}
			if f := m.doc.Fragments.ForName(s.Name); f != nil {
				m.visiting[s.Name] = true
				d = m.depth(f.SelectionSet)
				delete(m.visiting, s.Name)
			}
		}
		if d > deepest {
			deepest = d
		}
	}
	return deepest
}
