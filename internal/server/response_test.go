package server

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// writeJSON writes the bytes json.Marshal writes for every shape of
// response gqlgen hands a transport.
func TestWriteJSONIsJSONMarshal(t *testing.T) {
	yes := true
	for name, resp := range map[string]*graphql.Response{
		"data only":   {Data: json.RawMessage("{\"doctors\":{\"edges\":[{\"cursor\":\"x\",\"node\":{\"name\":\"Dr. \\u00e9 <b> & \u2028\"}}]}}")},
		"no data":     {},
		"null data":   {Data: json.RawMessage(`null`)},
		"errors only": {Errors: gqlerror.List{{Message: `a "quoted" <msg>`, Path: ast.Path{ast.PathName("book")}, Extensions: map[string]any{"code": "CONFLICT", "data": nil}}}},
		"errors and data": {Errors: gqlerror.List{{Message: "m"}},
			Data: json.RawMessage(`{"a":null}`)},
		"deferred part": {Data: json.RawMessage(`{"b":1}`), Label: "l", Path: ast.Path{ast.PathName("a"), ast.PathIndex(2)}, HasNext: &yes},
		"extensions":    {Data: json.RawMessage(`{}`), Extensions: map[string]any{"cost": 3, "requestId": "r"}},
	} {
		want, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		writeJSON(&got, resp)
		if got.String() != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got.String(), want)
		}
	}
}
