package archtest

import (
	"go/ast"
	"slices"
)

// refusals are the functions, by file, that may answer UNAUTHENTICATED
// or FORBIDDEN although they are not the declared places: each refuses
// for something other than the caller's kind of account. A gate that
// branches on something other than the role (an ok from a helper that
// names the account's kind) reads like none of them, so the answer
// itself is what is looked for.
var refusals = map[string][]string{
	// A credential or a token that proves no sign-in.
	"internal/identity/service.go":    {"login"},
	"internal/identity/session.go":    {"refreshRefused"},
	"internal/server/middleware.go":   {"withAuth"},
	"internal/server/staletoken.go":   {"InterceptOperation"},
	"internal/server/websocket.go":    {"ConnectionErrorExtensions", "InterceptOperation"},
	"internal/multipart/transport.go": {"Do"},
	// A browser origin, whoever is signed in.
	"internal/server/cors.go": {"withCORS"},
	// An account whose e-mail this server has not verified yet.
	"internal/identity/verify.go": {"requireVerified"},
	"internal/record/shares.go":   {"Share"},
	// A download link that does not hold, or was made for someone else.
	"internal/record/download.go": {"ServeDownload"},
	// A field of a row, refused by its privacy rule
	// (rule.SeesDoctorVerification).
	"internal/profile/verification.go": {"Verification"},
}

// refusing are gqlerr's names for the two answers a role gate gives.
var refusing = map[string]bool{
	"UnauthenticatedError": true, "ForbiddenError": true, "EmailNotVerifiedError": true,
	"Unauthenticated": true, "Forbidden": true,
}

// refusalsIn finds the UNAUTHENTICATED and FORBIDDEN answers of the file
// named name outside its functions of refusals.
func refusalsIn(name string, f *ast.File) []gate {
	var out []gate
	for _, d := range f.Decls {
		fn := ""
		if fd, ok := d.(*ast.FuncDecl); ok {
			fn = fd.Name.Name
		}
		if fn != "" && slices.Contains(refusals[name], fn) {
			continue
		}
		ast.Inspect(d, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && isPkg(sel.X, "gqlerr") && refusing[sel.Sel.Name] {
				out = append(out, gate{sel.Pos(), "gqlerr." + sel.Sel.Name + " outside the declared places and the refusals that are not role gates"})
			}
			return true
		})
	}
	return out
}
