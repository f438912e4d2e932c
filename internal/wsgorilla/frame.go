package wsgorilla

import (
	"encoding/json"
	"io"

	"github.com/99designs/gqlgen/graphql"
)

// marshalledFrame is the next (or legacy data) message carrying r,
// encoded by encoding/json: for what is not a plain result (plainFrame,
// writeResult).
func marshalledFrame(id, typ string, r *graphql.Response) ([]byte, error) {
	payload, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return json.Marshal(message{Type: typ, ID: id, Payload: payload})
}

// plainFrame reports whether r's frame can be written around its data
// (writeResultFrame) and still read exactly as encoding/json writes it.
func plainFrame(id, typ string, r *graphql.Response) bool {
	return plainResult(r) && plainString(id) && plainString(typ)
}

type frameWriter interface {
	io.Writer
	io.StringWriter
}

// writeResultFrame writes a plain result's frame around the data gqlgen
// has already encoded. json.Marshal would scan those bytes twice more per
// socket (the response's raw data, then the envelope's raw payload), and a
// fan-out sends one shared response to thousands of sockets.
func writeResultFrame(w frameWriter, id, typ string, data []byte) error {
	_, _ = w.WriteString(`{"payload":{"data":`)
	_, _ = w.Write(data)
	_, _ = w.WriteString(`}`)
	if id != "" {
		_, _ = w.WriteString(`,"id":"`)
		_, _ = w.WriteString(id)
		_, _ = w.WriteString(`"`)
	}
	_, _ = w.WriteString(`,"type":"`)
	_, _ = w.WriteString(typ)
	_, err := w.WriteString(`"}`)
	return err
}

// plainResult reports whether r is data alone, which encodes as
// {"data":...} with the data's bytes unchanged.
func plainResult(r *graphql.Response) bool {
	return len(r.Data) > 0 && len(r.Errors) == 0 && r.Label == "" && r.Path == nil &&
		r.HasNext == nil && len(r.Extensions) == 0 && json.Valid(r.Data)
}

// plainString reports whether s is written between quotes as it is: no
// byte JSON escapes, nor one encoding/json escapes for HTML.
func plainString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
