package wsgorilla

import (
	"encoding/json"

	"github.com/99designs/gqlgen/graphql"
)

// responseFrame is the next (or legacy data) message carrying r. A plain
// result, data and nothing else, is put together around the data gqlgen
// has already encoded: json.Marshal would scan those bytes twice more per
// socket (the response's raw data, then the envelope's raw payload), and a
// fan-out sends the one shared response to thousands of sockets.
func responseFrame(id, typ string, r *graphql.Response) ([]byte, error) {
	if !plainResult(r) || !plainString(id) || !plainString(typ) {
		payload, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		return json.Marshal(message{Type: typ, ID: id, Payload: payload})
	}
	const head, mid = `{"payload":{"data":`, `}`
	b := make([]byte, 0, len(head)+len(r.Data)+len(mid)+len(id)+len(typ)+24)
	b = append(b, head...)
	b = append(b, r.Data...)
	b = append(b, mid...)
	if id != "" {
		b = append(b, `,"id":"`...)
		b = append(b, id...)
		b = append(b, '"')
	}
	b = append(b, `,"type":"`...)
	b = append(b, typ...)
	b = append(b, `"}`...)
	return b, nil
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
