package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// responseTail is what follows data in gqlgen's Response, in its order.
type responseTail struct {
	Label      string         `json:"label,omitempty"`
	Path       ast.Path       `json:"path,omitempty"`
	HasNext    *bool          `json:"hasNext,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

// writeJSON writes resp as json.Marshal would, in one pass over data:
// json.Marshal would also check and compact the whole answer, which
// gqlgen's own writers produced valid and compact. Data is HTML-escaped
// (<, >, &, U+2028, U+2029) as json.Marshal does, so that no answer reads
// as markup to a browser that sniffs it.
func writeJSON(w io.Writer, resp *graphql.Response) {
	var b bytes.Buffer
	b.Grow(len(resp.Data) + 64)
	b.WriteByte('{')
	if len(resp.Errors) > 0 {
		b.WriteString(`"errors":`)
		b.Write(mustMarshal(resp.Errors))
		b.WriteByte(',')
	}
	b.WriteString(`"data":`)
	if len(resp.Data) == 0 {
		b.WriteString("null")
	} else {
		json.HTMLEscape(&b, resp.Data)
	}
	tail := mustMarshal(responseTail{Label: resp.Label, Path: resp.Path, HasNext: resp.HasNext, Extensions: resp.Extensions})
	if len(tail) > 2 {
		b.WriteByte(',')
		b.Write(tail[1 : len(tail)-1])
	}
	b.WriteByte('}')
	_, _ = w.Write(b.Bytes())
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only a value of ours can fail to marshal: the recovery handler
		// logs it as the bug it is and answers INTERNAL.
		panic(fmt.Errorf("marshal response: %w", err))
	}
	return b
}
