package wsgorilla

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/99designs/gqlgen/graphql"
)

// errUnusableOperation fails the read of a subscribe (start) message
// whose payload is no operation, so that the socket is refused like any
// other message gqlgen cannot use.
var errUnusableOperation = errors.New("wsgorilla: a subscribe message whose payload is not an operation")

// usableOperation reports whether a message is one gqlgen can act on as
// far as its operation's payload goes. gqlgen answers a subscribe whose
// payload does not decode (a string, an array, "query": 5) with an error
// frame of its own, {"message":"invalid json"}, which passes no error
// presenter and so carries no code a client can act on; both protocols
// make it an invalid message instead, which closes the socket with the
// code that says so. The payload is decoded as gqlgen decodes it, so the
// two agree on what is usable. Anything else, well-formed or not, is
// gqlgen's to judge.
func usableOperation(data []byte) bool {
	var m struct {
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload"`
	}
	if json.Unmarshal(data, &m) != nil || m.Type != "subscribe" && m.Type != "start" {
		return true
	}
	dec := json.NewDecoder(bytes.NewReader(m.Payload))
	dec.UseNumber()
	return dec.Decode(&graphql.RawParams{}) == nil
}
