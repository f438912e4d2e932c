package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/healthmed/healthmed/graph"
	"github.com/healthmed/healthmed/graph/generated"
	"github.com/healthmed/healthmed/internal/fuzzbound"
)

// fragmentGraph writes a document of random fragments on Query, seeded by
// the fuzzer's bytes: each fragment spreads others (mostly later ones,
// sometimes itself or an earlier one, a cycle), aliases __typename and
// nests introspection fields, so some documents expand exponentially.
func fragmentGraph(seed []byte) string {
	var s [32]byte
	copy(s[:], seed)
	r := rand.New(rand.NewChaCha8(s))
	n := 1 + r.IntN(40)
	spread := func(b *strings.Builder, from int) {
		to := from + 1 + r.IntN(3)
		if r.IntN(20) == 0 {
			to = r.IntN(n) // perhaps a cycle
		}
		if to < n {
			fmt.Fprintf(b, "...F%d ", to)
		}
	}
	var b strings.Builder
	b.WriteString("query { ...F0 }\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "fragment F%d on Query { ", i)
		for k := r.IntN(5); k >= 0; k-- {
			switch r.IntN(6) {
			case 0, 1, 2:
				spread(&b, i)
			case 3:
				fmt.Fprintf(&b, "a%d: __typename ", r.IntN(1000))
			case 4:
				b.WriteString("... on Query { ")
				spread(&b, i)
				b.WriteString("__typename } ")
			case 5:
				b.WriteString("__schema { queryType { fields { name type { name ofType { name } } } } } ")
			}
		}
		b.WriteString("__typename }\n")
	}
	return b.String()
}

// naiveFields counts what doc expands to the slow way, giving up past
// limit, so a refusal can be checked against a second opinion.
func naiveFields(doc *ast.QueryDocument, set ast.SelectionSet, limit int, seen map[string]bool) int {
	total := 0
	for _, sel := range set {
		if total > limit {
			return total
		}
		switch s := sel.(type) {
		case *ast.Field:
			total += 1 + naiveFields(doc, s.SelectionSet, limit-total, seen)
		case *ast.InlineFragment:
			total += naiveFields(doc, s.SelectionSet, limit-total, seen)
		case *ast.FragmentSpread:
			if f := doc.Fragments.ForName(s.Name); f != nil && !seen[s.Name] {
				seen[s.Name] = true
				total += naiveFields(doc, f.SelectionSet, limit-total, seen)
				delete(seen, s.Name)
			}
		}
	}
	return total
}

// FuzzFragmentGraphs runs random fragment graphs through gqlgen's whole
// pipeline (bounds, parsing, validation, complexity, execution): each is
// refused or answered well within a second, and a document that expands
// past the limit is never answered.
func FuzzFragmentGraphs(f *testing.F) {
	for _, seed := range []string{"", "a", "explode", "cycle", "\xff\xff\xff\xff", "0123456789abcdef0123456789abcdef"} {
		f.Add([]byte(seed))
	}
	const maxFields = 2000
	es := generated.NewExecutableSchema(generated.Config{Complexity: graph.Complexity()})
	exec := executor.New(es)
	docs := lru.New[*ast.QueryDocument](100)
	exec.SetQueryCache(docs)
	exec.Use(extension.Introspection{})
	// The server's default limits (HEALTHMED_MAX_TOKENS and the others),
	// since the CPU bound is the server's: a document of 5,000 tokens,
	// which the server never parses, was held to it once, and cost 6 ms
	// in validation alone.
	exec.Use(DocumentBounds{MaxTokens: 1000, MaxDepth: 10, MaxAliases: 15, MaxFields: maxFields, MaxSameField: 30, Accepted: docs})
	exec.Use(extension.FixedComplexityLimit(1 << 30))
	f.Fuzz(func(t *testing.T, seed []byte) {
		q := fragmentGraph(seed)
		var rc *graphql.OperationContext
		var errs gqlerror.List
		var resp *graphql.Response
		fuzzbound.WithinProcess(t, "a document", 1, func() {
			ctx := graphql.StartOperationTrace(context.Background())
			rc, errs = exec.CreateOperationContext(ctx, &graphql.RawParams{Query: q})
			if errs == nil {
				h, ctx := exec.DispatchOperation(ctx, rc)
				resp = h(ctx)
			}
		})
		if errs != nil {
			return
		}
		if len(resp.Errors) > 0 {
			t.Fatalf("accepted, then failed: %v\n%s", resp.Errors, q)
		}
		if n := naiveFields(rc.Doc, rc.Operation.SelectionSet, maxFields, map[string]bool{}); n > maxFields {
			t.Fatalf("expands to more than %d fields (%d counted) and was answered:\n%s", maxFields, n, q)
		}
	})
}

func TestFragmentGraphsAreMeasuredOnce(t *testing.T) {
	m := func(q string) shape {
		doc, err := parser.ParseQuery(&ast.Source{Input: q})
		if err != nil {
			t.Fatal(err)
		}
		ms := measure{doc: doc, fragments: map[string]*shape{}}
		return ms.set(doc.Operations[0].SelectionSet)
	}
	// Two spreads per level: 2^60 fields, counted without walking them.
	var b strings.Builder
	b.WriteString("query { ...F0 }\n")
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d a: viewer { __typename } ...F%d }\n", i, i+1, i+1)
	}
	b.WriteString("fragment F60 on Query { viewer { __typename } }\n")
	start := time.Now()
	s := m(b.String())
	if s.fields != saturated || s.aliases != saturated || s.depth != 1 {
		t.Fatalf("shape %+v", s)
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Fatalf("took %v", took)
	}
	if s := m(`query { a: viewer { __typename } ...F } fragment F on Query { viewer { ... on Doctor { id name } } ...G } fragment G on Query { b: viewer { __typename } ...F }`); s.fields != 7 || s.aliases != 2 || s.depth != 2 {
		t.Fatalf("small document with a cycle: %+v", s)
	}
}
