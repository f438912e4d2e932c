package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/healthmed/healthmed"

// root is the module's root, seen from this package's directory.
const root = "../.."

// goFiles returns the non-test, non-generated Go files under dir.
func goFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && (d.Name() == "generated" || d.Name() == "testdata"):
			return filepath.SkipDir
		case d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go"):
			return nil
		}
		out = append(out, path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sourceFile is one parsed file of serviceSources.
type sourceFile struct {
	name string // relative to the module's root
	ast  *ast.File
}

// serviceSources parses every non-test Go file of internal/ and graph/
// but the privacy rules' (internal/rule) and this package's: the code a
// rule about services and resolvers is checked against.
func serviceSources(t *testing.T, fset *token.FileSet) []sourceFile {
	t.Helper()
	var out []sourceFile
	for _, path := range append(goFiles(t, "internal"), goFiles(t, "graph")...) {
		name := rel(path)
		if strings.HasPrefix(name, "internal/rule/") || strings.HasPrefix(name, "internal/archtest/") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sourceFile{name, f})
	}
	return out
}

func rel(path string) string {
	r, _ := filepath.Rel(root, path)
	return filepath.ToSlash(r)
}

// apiLayer are the packages above the domain: the GraphQL schema and
// resolvers, the HTTP server, and the wiring of both.
var apiLayer = []string{"graph", "internal/server", "internal/app", "internal/apptest"}

func inAPILayer(path string) bool {
	for _, p := range apiLayer {
		if strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// TestDomainStandsBelowTheAPI: no package below the API imports one of
// it, so gqlgen's generated code and the HTTP server stay out of the
// domain's dependencies (go list -deps of a domain package shows neither).
func TestDomainStandsBelowTheAPI(t *testing.T) {
	fset := token.NewFileSet()
	for _, path := range goFiles(t, "internal") {
		if inAPILayer(rel(path)) {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			for _, api := range apiLayer {
				if p == module+"/"+api || strings.HasPrefix(p, module+"/"+api+"/") {
					t.Errorf("%s imports %s, which stands above it", rel(path), p)
				}
			}
		}
	}
}

// roleGates are the only files that decide who may call an operation:
// the schema's @hasRole, the routes beside /graphql, and the check both
// share. Row-level rules are the privacy policies' (internal/rule,
// ent/schema).
var roleGates = map[string]bool{
	"graph/directives.go":          true,
	"internal/server/endpoints.go": true,
	"internal/server/server.go":    true,
	"internal/gqlerr/require.go":   true,
}

// TestNoRoleGateOutsideTheDeclaredPlaces fails on a call of the shared
// check, on a hand-written gate (a branch on the caller's role that
// answers UNAUTHENTICATED or FORBIDDEN, or an error of its own), or on
// any UNAUTHENTICATED or FORBIDDEN answer outside the functions of
// refusals, anywhere else.
func TestNoRoleGateOutsideTheDeclaredPlaces(t *testing.T) {
	fset := token.NewFileSet()
	for _, f := range serviceSources(t, fset) {
		if roleGates[f.name] {
			continue
		}
		for _, g := range append(roleGatesIn(f.ast), refusalsIn(f.name, f.ast)...) {
			t.Errorf("%s: %s", fset.Position(g.pos), g.what)
		}
	}
}

type gate struct {
	pos  token.Pos
	what string
}

func roleGatesIn(f *ast.File) []gate {
	var out []gate
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			if isPkg(n.X, "gqlerr") && (n.Sel.Name == "CheckRole" || strings.HasPrefix(n.Sel.Name, "Require")) {
				out = append(out, gate{n.Pos(), "gqlerr." + n.Sel.Name + " outside the declared places"})
			}
		case *ast.IfStmt:
			if mentionsRole(n.Cond) && refuses(n.Body) {
				out = append(out, gate{n.Pos(), "a role check that refuses the caller"})
			}
		case *ast.CaseClause:
			for _, e := range n.List {
				if mentionsRole(e) && refuses(&ast.BlockStmt{List: n.Body}) {
					out = append(out, gate{n.Pos(), "a role check that refuses the caller"})
					break
				}
			}
		}
		return true
	})
	return out
}

func isPkg(x ast.Expr, name string) bool {
	id, ok := x.(*ast.Ident)
	return ok && id.Name == name
}

// mentionsRole: the expression tests the caller's kind of account.
func mentionsRole(e ast.Expr) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		switch sel.Sel.Name {
		case "IsDoctor", "IsPatient", "IsAdmin", "Role":
			found = true
		case "Anonymous", "Doctor", "Patient", "Admin":
			found = found || isPkg(sel.X, "viewer")
		}
		return !found
	})
	return found
}

// refuses: the block answers UNAUTHENTICATED or FORBIDDEN, or returns
// an error of its own making (errors.New, fmt.Errorf).
func refuses(b *ast.BlockStmt) bool {
	found := false
	ast.Inspect(b, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			if isPkg(n.X, "gqlerr") {
				switch n.Sel.Name {
				case "UnauthenticatedError", "ForbiddenError", "Unauthenticated", "Forbidden":
					found = true
				}
			}
		case *ast.ReturnStmt:
			if len(n.Results) > 0 && madeError(n.Results[len(n.Results)-1]) {
				found = true
			}
		}
		return !found
	})
	return found
}

// madeError: the expression is errors.New(...) or fmt.Errorf(...).
func madeError(e ast.Expr) bool { return isCall(e, "errors", "New") || isCall(e, "fmt", "Errorf") }

// isCall: the expression calls pkg.name.
func isCall(e ast.Expr, pkg, name string) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	return ok && isPkg(sel.X, pkg) && sel.Sel.Name == name
}
