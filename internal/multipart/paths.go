package multipart

import (
	"errors"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

const uploadType = "Upload"

// checkOperation lets files into a mutation only, and makes the map name
// exactly the operation's file positions: every path of the map is a
// position of type Upload, and every such position holding a value holds
// one of the map's files. A file is then never read for an operation that
// would not take it.
func (t Transport) checkOperation(rc *graphql.OperationContext, paths map[string][]string) error {
	if rc.Operation == nil || rc.Operation.Operation != ast.Mutation {
		return badInput("operations", "files can only be sent with a mutation")
	}
	mapped := map[string]bool{}
	for _, list := range paths {
		for _, p := range list {
			mapped[p] = false
		}
	}
	var bad error
	for _, def := range rc.Operation.VariableDefinitions {
		val, ok := rc.Variables[def.Variable]
		if !ok {
			continue
		}
		t.walk(def.Type, val, "variables."+def.Variable, 0, func(path string, v any) {
			_, seen := mapped[path]
			switch {
			case bad != nil:
			case seen:
				mapped[path] = true
			case v != nil:
				bad = badInput(def.Variable, "%s holds a value where a file belongs; name the file in map", path)
			}
		})
	}
	if bad != nil {
		return bad
	}
	for p, found := range mapped {
		if !found {
			return badInput("map", "path %q does not name a variable of type Upload", p)
		}
	}
	return nil
}

// maxTypeDepth stops a walk through recursive input types (filters that
// nest themselves) long before the stack minds; no file sits that deep.
const maxTypeDepth = 32

// walk calls fn with every position of type Upload in v, a value of type
// typ, and the position's path.
func (t Transport) walk(typ *ast.Type, v any, path string, depth int, fn func(path string, v any)) {
	if depth > maxTypeDepth {
		return
	}
	if typ.Elem != nil {
		list, ok := v.([]any)
		if !ok {
			if v == nil {
				return
			}
			// A single value where a list belongs: not a place a map
			// path can name, but it must not hide a value either.
			t.walk(typ.Elem, v, path, depth+1, func(string, any) { fn(path+".?", v) })
			return
		}
		for i, e := range list {
			t.walk(typ.Elem, e, path+"."+strconv.Itoa(i), depth+1, fn)
		}
		return
	}
	if typ.NamedType == uploadType {
		fn(path, v)
		return
	}
	if t.Schema == nil {
		return
	}
	def := t.Schema.Types[typ.NamedType]
	m, ok := v.(map[string]any)
	if def == nil || def.Kind != ast.InputObject || !ok {
		return
	}
	for _, f := range def.Fields {
		if fv, ok := m[f.Name]; ok {
			t.walk(f.Type, fv, path+"."+f.Name, depth+1, fn)
		}
	}
}

// place puts v at path ("variables.a.0.b") in vars. Where fresh, the
// position must be empty (the spec has clients send null there);
// otherwise it must hold a placeholder.
func place(vars map[string]any, path string, v any, fresh bool) error {
	parts := strings.Split(path, ".")
	if len(parts) < 2 || parts[0] != "variables" {
		return errors.New(`a path starts with "variables."`)
	}
	if vars == nil {
		return errors.New("the operation has no variables")
	}
	var c any = vars
	for i, p := range parts[1:] {
		last := i == len(parts)-2
		var cur any
		var set func(any)
		switch cc := c.(type) {
		case map[string]any:
			var ok bool
			if cur, ok = cc[p]; !ok && !(last && fresh) {
				return errors.New("names nothing in the variables")
			}
			set = func(x any) { cc[p] = x }
		case []any:
			idx, ok := index(p, len(cc))
			if !ok {
				return errors.New("names nothing in the variables")
			}
			cur = cc[idx]
			set = func(x any) { cc[idx] = x }
		default:
			return errors.New("names nothing in the variables")
		}
		if !last {
			c = cur
			continue
		}
		if _, up := cur.(graphql.Upload); fresh && cur != nil || !fresh && !up {
			return errors.New("must be null in operations")
		}
		set(v)
	}
	return nil
}

// index reads a list index in its one canonical spelling.
func index(s string, n int) (int, bool) {
	if s == "" || len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	i, err := strconv.Atoi(s)
	return i, err == nil && i < n
}
