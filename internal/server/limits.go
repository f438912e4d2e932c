package server

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// Reasons a document is refused for its size or shape.
const (
	reasonDepth   = "DEPTH_LIMIT_EXCEEDED"
	reasonAliases = "ALIAS_LIMIT_EXCEEDED"
	reasonFields  = "FIELD_LIMIT_EXCEEDED"
	reasonSame    = "SAME_FIELD_LIMIT_EXCEEDED"
)

func init() {
	// A document over a limit is the client's request at fault: 422,
	// like the parse and validation failures, not a 200.
	for _, r := range []string{reasonDepth, reasonAliases, reasonFields, reasonSame} {
		errcode.RegisterErrorType(r, errcode.KindProtocol)
	}
}

// DocumentBounds measures a document right after it is parsed, before
// gqlgen validates it or computes its complexity: fragments that spread
// the next fragment twice make a document of a few hundred bytes expand
// to millions of fields, and every walker that follows spreads (the
// complexity calculation, a naive depth count) pays for the expansion.
// Here each fragment is measured once and its figures reused, so the cost
// is linear in the document, and the expansion is refused by its size.
// gqlgen bounds neither depth nor aliases by itself.
type DocumentBounds struct {
	MaxTokens  int
	MaxDepth   int
	MaxAliases int
	// MaxFields bounds the fields the document expands to once every
	// fragment spread is replaced by its fragment.
	MaxFields int
	// MaxSameField bounds how often one response name is selected in
	// one selection set, fragments included: validation compares every
	// pair of them (gqlparser's OverlappingFieldsCanBeMerged), so a
	// thousand-token document of one repeated field cost ~100 ms.
	MaxSameField int
	// Accepted holds the documents that passed (gqlgen's query cache:
	// it only keeps documents that also passed validation).
	Accepted graphql.Cache[*ast.QueryDocument]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = DocumentBounds{}

func (DocumentBounds) ExtensionName() string                   { return "DocumentBounds" }
func (DocumentBounds) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters runs before gqlgen parses the document.
func (b DocumentBounds) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if strings.TrimSpace(p.Query) == "" {
		return nil // gqlgen answers "no operation provided"
	}
	if b.Accepted != nil {
		if _, ok := b.Accepted.Get(ctx, p.Query); ok {
			return nil
		}
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, b.MaxTokens)
	if err != nil {
		var gerr *gqlerror.Error
		if !errors.As(err, &gerr) {
			gerr = gqlerror.Errorf("%s", err.Error())
		}
		errcode.Set(gerr, errcode.ParseFailed)
		return gerr
	}
	// Every operation, not only the one named: the document is cached as
	// a whole, and validation walks all of them.
	m := measure{doc: doc, fragments: map[string]*shape{}}
	for _, op := range doc.Operations {
		s := m.set(op.SelectionSet)
		switch {
		case b.MaxFields > 0 && s.fields > b.MaxFields:
			return limitError(reasonFields, "the operation expands to %s fields, the limit is %d", count(s.fields), b.MaxFields)
		case b.MaxDepth > 0 && s.depth > b.MaxDepth:
			return limitError(reasonDepth, "operation is nested %d levels deep, the limit is %d", s.depth, b.MaxDepth)
		case b.MaxAliases > 0 && s.aliases > b.MaxAliases:
			return limitError(reasonAliases, "operation uses %s aliases, the limit is %d", count(s.aliases), b.MaxAliases)
		case b.MaxSameField > 0 && s.same > b.MaxSameField:
			return limitError(reasonSame, "operation selects one field %s times in a selection set, the limit is %d", count(s.same), b.MaxSameField)
		}
	}
	return nil
}

func limitError(reason, format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	errcode.Set(err, reason)
	return err
}

// saturated caps the counts: a 2^60-field expansion is only "too many".
const saturated = 1 << 40

func add(a, b int) int { return min(a+b, saturated) }

func count(n int) string {
	if n >= saturated {
		return "more than a trillion"
	}
	return strconv.Itoa(n)
}

// shape is what a selection set expands to.
type shape struct {
	depth   int // introspection fields not counted: the IDE's schema query is deep by nature
	fields  int
	aliases int
	// same is the most times one response name is selected in any one
	// selection set within; keys counts the set's own response names,
	// those its fragments bring in included.
	same int
	keys map[string]int
}

func (s *shape) merge(o shape) {
	s.depth = max(s.depth, o.depth)
	s.fields = add(s.fields, o.fields)
	s.aliases = add(s.aliases, o.aliases)
	s.same = max(s.same, o.same)
}

// mergeKeys adds a fragment's response names to the set it is spread in.
func (s *shape) mergeKeys(o shape) {
	for k, n := range o.keys {
		s.count(k, n)
	}
}

func (s *shape) count(key string, n int) {
	if s.keys == nil {
		s.keys = map[string]int{}
	}
	s.keys[key] = add(s.keys[key], n)
	s.same = max(s.same, s.keys[key])
}

type measure struct {
	doc *ast.QueryDocument
	// fragments memoises each fragment's shape; nil while it is being
	// measured (a cycle, which validation refuses afterwards).
	fragments map[string]*shape
}

func (m *measure) set(set ast.SelectionSet) shape {
	var out shape
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			sub := m.set(s.SelectionSet)
			f := shape{fields: add(1, sub.fields), aliases: sub.aliases}
			if s.Alias != "" && s.Alias != s.Name {
				f.aliases = add(f.aliases, 1)
			}
			if !strings.HasPrefix(s.Name, "__") {
				f.depth = 1 + sub.depth
			}
			f.same = sub.same
			out.merge(f)
			key := s.Alias
			if key == "" {
				key = s.Name
			}
			out.count(key, 1)
		case *ast.InlineFragment:
			in := m.set(s.SelectionSet)
			out.merge(in)
			out.mergeKeys(in)
		case *ast.FragmentSpread:
			in := m.fragment(s.Name)
			out.merge(in)
			out.mergeKeys(in)
		}
	}
	return out
}

func (m *measure) fragment(name string) shape {
	if s, seen := m.fragments[name]; seen {
		if s == nil {
			return shape{}
		}
		return *s
	}
	f := m.doc.Fragments.ForName(name)
	if f == nil {
		return shape{} // validation reports the unknown fragment
	}
	m.fragments[name] = nil
	s := m.set(f.SelectionSet)
	m.fragments[name] = &s
	return s
}
