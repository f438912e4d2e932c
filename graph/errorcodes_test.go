package graph_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/healthmed/healthmed/graph/generated"
)

// errorCodes are the values of the schema's ErrorCode enum, with their
// descriptions, in the schema's order.
func errorCodes(t *testing.T) ([]string, map[string]string) {
	t.Helper()
	enum := generated.NewExecutableSchema(generated.Config{}).Schema().Types["ErrorCode"]
	if enum == nil || len(enum.EnumValues) == 0 {
		t.Fatal("the schema has no ErrorCode enum")
	}
	var names []string
	desc := map[string]string{}
	for _, v := range enum.EnumValues {
		names = append(names, v.Name)
		desc[v.Name] = v.Description
	}
	return names, desc
}

var upperSnake = regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$`)

// emitted finds, in the module's Go source (generated code and tests
// aside), every code and reason the server can put in extensions:
//   - constants named Reason... or reason..., anywhere;
//   - every constant of internal/gqlerr (the contract's codes);
//   - a string written as a Reason: field, as a "code" or "reason" map
//     entry, or as an argument of ConflictError, refuseOperation, refuse,
//     limitError or errcode.Set;
//   - every upper-case string with an underscore in internal/server and
//     internal/multipart, which hold no other kind (gqlgen's own codes
//     that the presenter turns into reasons among them).
func emitted(t *testing.T) map[string]string {
	t.Helper()
	found := map[string]string{}
	add := func(lit ast.Expr, where string) {
		b, ok := lit.(*ast.BasicLit)
		if !ok || b.Kind != token.STRING {
			return
		}
		s, err := strconv.Unquote(b.Value)
		if err == nil && upperSnake.MatchString(s) {
			found[s] = where
		}
	}
	emitters := map[string]bool{"ConflictError": true, "refuseOperation": true, "refuse": true, "limitError": true,
		"Set": true} // errcode.Set
	root := ".."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			switch rel {
			case ".git", "ent", "graph/generated", "graph/model", "clients", "bench", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(rel))
		everyUpper := dir == "internal/server" || dir == "internal/multipart"
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GenDecl:
				if n.Tok != token.CONST {
					return true
				}
				for _, spec := range n.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, name := range vs.Names {
						lower := strings.ToLower(name.Name)
						if i < len(vs.Values) && (strings.HasPrefix(lower, "reason") || dir == "internal/gqlerr") {
							add(vs.Values[i], rel+": const "+name.Name)
						}
					}
				}
			case *ast.KeyValueExpr:
				if id, ok := n.Key.(*ast.Ident); ok && id.Name == "Reason" {
					add(n.Value, rel+": Reason field")
				}
				if k, ok := n.Key.(*ast.BasicLit); ok && (k.Value == `"reason"` || k.Value == `"code"`) {
					add(n.Value, rel+": "+k.Value+" entry")
				}
			case *ast.CallExpr:
				var name string
				switch fn := n.Fun.(type) {
				case *ast.Ident:
					name = fn.Name
				case *ast.SelectorExpr:
					name = fn.Sel.Name
					if x, ok := fn.X.(*ast.Ident); name == "Set" && (!ok || x.Name != "errcode") {
						name = "" // a header's Set
					}
				}
				if emitters[name] {
					for _, a := range n.Args {
						add(a, rel+": argument of "+name)
					}
				}
			case *ast.BasicLit:
				if everyUpper && n.Kind == token.STRING && strings.Contains(n.Value, "_") {
					add(n, rel)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestErrorCodeEnumListsEveryCode: a code or reason the Go code can emit
// and the ErrorCode enum (graph/errors.graphqls) lacks fails here, so a
// new one is published with its meaning.
func TestErrorCodeEnumListsEveryCode(t *testing.T) {
	names, _ := errorCodes(t)
	found := emitted(t)
	// The scan must see what is known to be there, or it proves nothing.
	for _, known := range []string{"UNAUTHENTICATED", "SLOT_TAKEN", "TOKEN_EXPIRED", "TOO_MANY_SUBSCRIPTIONS",
		"REFETCH_REQUIRED", "PASSWORD_FIELD_LIMIT", "SUBSCRIPTIONS_ONLY", "BODY_TIMEOUT", "BATCH_NOT_SUPPORTED",
		"FIELD_LIMIT_EXCEEDED", "ALREADY_LINKED", "GRAPHQL_VALIDATION_FAILED", "RETRY"} {
		if _, ok := found[known]; !ok {
			t.Errorf("the scan of the Go code missed %s", known)
		}
	}
	for v, where := range found {
		if !slices.Contains(names, v) {
			t.Errorf("%s (%s) is missing from enum ErrorCode in graph/errors.graphqls", v, where)
		}
	}
}

// TestReadmeErrorCatalogue: the README's catalogue lists exactly the
// enum's values, in its order.
func TestReadmeErrorCatalogue(t *testing.T) {
	names, desc := errorCodes(t)
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n#### Error catalogue\n")
	if !ok {
		t.Fatal(`README.md has no "#### Error catalogue" section`)
	}
	if end := strings.Index(section, "\n#"); end >= 0 {
		section = section[:end]
	}
	row := regexp.MustCompile("(?m)^\\| `([A-Z0-9_]+)` \\|")
	var listed []string
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		listed = append(listed, m[1])
	}
	if !slices.Equal(listed, names) {
		var want strings.Builder
		want.WriteString("| value | meaning |\n| --- | --- |\n")
		for _, n := range names {
			want.WriteString("| `" + n + "` | " + strings.ReplaceAll(desc[n], "\n", " ") + " |\n")
		}
		t.Fatalf("README's catalogue lists %v,\nthe enum %v; the table from the enum:\n%s", listed, names, want.String())
	}
}
