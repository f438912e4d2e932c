package server

import (
	"context"
	"database/sql/driver"
	"testing"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/healthmed/healthmed/internal/db"
)

// TestGenericPlansOnlyForListedMutations: a mutation's transaction is
// begun with db.GenericPlans exactly when every root field it runs is
// listed, through aliases, fragments and @skip as gqlgen resolves them.
func TestGenericPlansOnlyForListedMutations(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `
		type Query { doctors: Int }
		type Mutation { book: Int other: Int }`})
	for _, c := range []struct {
		doc  string
		want bool
	}{
		{`mutation { book }`, true},
		{`mutation { a: book b: book }`, true},
		{`mutation { book other }`, false},
		{`mutation { other }`, false},
		{`mutation { book other @skip(if: true) }`, true},
		{`mutation { ...F } fragment F on Mutation { book }`, true},
		{`mutation { ...F } fragment F on Mutation { book other }`, false},
		{`query { doctors }`, false},
	} {
		doc, errs := gqlparser.LoadQueryWithRules(schema, c.doc, rules.NewDefaultRules())
		if errs != nil {
			t.Fatalf("%s: %v", c.doc, errs)
		}
		rc := &graphql.OperationContext{RawQuery: c.doc, Doc: doc, Operation: doc.Operations[0], Variables: map[string]any{}}
		var began, generic bool
		tr := transactions{generic: map[string]bool{"book": true}, Transactioner: entgql.Transactioner{
			TxOpener: entgql.TxOpenerFunc(func(ctx context.Context) (context.Context, driver.Tx, error) {
				began, generic = true, db.AsksGenericPlans(ctx)
				return ctx, nopTx{}, nil
			})}}
		var ran bool
		tr.InterceptResponse(graphql.WithOperationContext(context.Background(), rc), func(ctx context.Context) *graphql.Response {
			ran = true
			return &graphql.Response{}
		})
		if !ran || generic != c.want || began != (rc.Operation.Operation == ast.Mutation) {
			t.Errorf("%s: ran %v, transaction begun %v with generic plans %v; want generic %v", c.doc, ran, began, generic, c.want)
		}
	}
}

type nopTx struct{}

func (nopTx) Commit() error   { return nil }
func (nopTx) Rollback() error { return nil }
