package server

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// PasswordFields lets an operation hold at most one of the named root
// fields: the ones that hash or check a password with argon2id. Each
// costs ~19 MiB and tens of milliseconds of a core, so fifteen aliased
// registrations in one anonymous request would cost fifteen of them
// before any per-request throttle could count. Refused as BAD_USER_INPUT
// with reason PASSWORD_FIELD_LIMIT.
type PasswordFields map[string]bool

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = PasswordFields(nil)

func (PasswordFields) ExtensionName() string                   { return "PasswordFields" }
func (PasswordFields) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext counts the chosen operation's root fields.
func (p PasswordFields) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	op := rc.Doc.Operations.ForName(rc.OperationName)
	if op == nil {
		return nil
	}
	if n := p.count(rc.Doc, op.SelectionSet, map[string]bool{}); n > 1 {
		return limitError("PASSWORD_FIELD_LIMIT", "an operation may sign in, register or check a password once; it asks %d times", n)
	}
	return nil
}

// count walks the root selection, through fragments, as gqlgen will.
func (p PasswordFields) count(doc *ast.QueryDocument, set ast.SelectionSet, visiting map[string]bool) int {
	n := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if p[s.Name] {
				n++
			}
		case *ast.InlineFragment:
			n += p.count(doc, s.SelectionSet, visiting)
		case *ast.FragmentSpread:
			if visiting[s.Name] {
				continue
			}
			if f := doc.Fragments.ForName(s.Name); f != nil {
				visiting[s.Name] = true
				n += p.count(doc, f.SelectionSet, visiting)
				delete(visiting, s.Name)
			}
		}
	}
	return n
}
