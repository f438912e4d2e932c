package wsgorilla

import (
	"bytes"
	"encoding/json"
	"errors"
)

// errUnusableOperation ends gqlgen's write of its own answer to a
// subscribe whose payload is no operation: the socket is refused instead,
// like any other message gqlgen cannot use.
var errUnusableOperation = errors.New("wsgorilla: a subscribe message whose payload is not an operation")

// message is a frame gqlgen writes, of either protocol, its fields in
// gqlgen's order.
type message struct {
	Payload json.RawMessage `json:"payload,omitempty"`
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
}

// codelessInvalidJSON reports whether a frame gqlgen is about to send is
// its answer to a subscribe whose payload does not decode (a string, an
// array, "query": 5): an error frame of its own, {"message":"invalid
// json"}, which passes no error presenter and so carries no code a client
// can act on. Both protocols make such a subscribe an invalid message,
// which closes the socket with the code that says so.
//
// It is caught on its way out rather than by decoding every incoming
// message a second time: that doubled what each message allocated, and
// 20,000 sockets opening at once paid for it in resident memory.
func codelessInvalidJSON(frame []byte) bool {
	if !bytes.Contains(frame, []byte(`"invalid json"`)) {
		return false
	}
	var m message
	if json.Unmarshal(frame, &m) != nil || m.Type != "error" {
		return false
	}
	type plain struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
		Path       []any          `json:"path"`
	}
	bare := func(e plain) bool { return e.Message == "invalid json" && e.Extensions == nil && e.Path == nil }
	var list []plain // graphql-transport-ws
	if json.Unmarshal(m.Payload, &list) == nil {
		return len(list) == 1 && bare(list[0])
	}
	var one plain // the legacy protocol
	return json.Unmarshal(m.Payload, &one) == nil && bare(one)
}

// withConnectionErrorCode returns frame with extensions added to its
// payload when it is the legacy protocol's connection_error, which gqlgen
// writes as {"message": ...} alone: a client could only match its text.
// Any other frame is returned as it is.
func withConnectionErrorCode(frame []byte, extensions func(message string) map[string]any) []byte {
	if !bytes.Contains(frame, []byte(`"connection_error"`)) {
		return frame
	}
	var m message
	if json.Unmarshal(frame, &m) != nil || m.Type != "connection_error" {
		return frame
	}
	var p map[string]any
	if json.Unmarshal(m.Payload, &p) != nil || p == nil || p["extensions"] != nil {
		return frame
	}
	msg, _ := p["message"].(string)
	ext := extensions(msg)
	if len(ext) == 0 {
		return frame
	}
	p["extensions"] = ext
	payload, err := json.Marshal(p)
	if err != nil {
		return frame
	}
	m.Payload = payload
	out, err := json.Marshal(m)
	if err != nil {
		return frame
	}
	return out
}
