package archtest

import (
	"go/ast"
	"go/token"
	"testing"
)

// ownRows are the entities whose privacy policies narrow every query and
// every change of a patient or a doctor to their own rows (internal/rule):
// a service that adds the same owner predicate repeats the rule.
var ownRows = map[string]bool{
	"appointment": true, "recordfile": true, "recordshare": true, "insuranceplan": true,
	"notification": true, "invoice": true, "coveragecheck": true, "auditevent": true,
	"waitlistentry": true, "waitlistoffer": true,
}

// TestServicesDoNotRepeatThePrivacyFilters fails on a predicate such as
// appointment.PatientID(v.ID), v being the caller, outside the rules.
func TestServicesDoNotRepeatThePrivacyFilters(t *testing.T) {
	fset := token.NewFileSet()
	for _, f := range serviceSources(t, fset) {
		for _, pos := range ownerPredicatesOfTheCaller(f.ast) {
			t.Errorf("%s: an owner predicate on the caller's id, which the privacy rule already adds", fset.Position(pos))
		}
	}
}

func ownerPredicatesOfTheCaller(f *ast.File) []token.Pos {
	var out []token.Pos
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		callers := map[string]bool{}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			if as, ok := n.(*ast.AssignStmt); ok && len(as.Lhs) == 1 && len(as.Rhs) == 1 && isCallerOf(as.Rhs[0]) {
				if id, ok := as.Lhs[0].(*ast.Ident); ok {
					callers[id.Name] = true
				}
			}
			return true
		})
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 1 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "PatientID" && sel.Sel.Name != "DoctorID") {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); !ok || !ownRows[pkg.Name] {
				return true
			}
			arg, ok := call.Args[0].(*ast.SelectorExpr)
			if !ok || arg.Sel.Name != "ID" {
				return true
			}
			if id, ok := arg.X.(*ast.Ident); (ok && callers[id.Name]) || isCallerOf(arg.X) {
				out = append(out, call.Pos())
			}
			return true
		})
	}
	return out
}

// isCallerOf: the expression is viewer.FromContext(...).
func isCallerOf(e ast.Expr) bool { return isCall(e, "viewer", "FromContext") }
