// Package jsonreq reads a GraphQL request's JSON (a POST body, a multipart
// operations part) into gqlgen's parameters once, with a bound on how
// deeply it nests checked before anything is built from it.
package jsonreq

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/99designs/gqlgen/graphql"
)

// MaxDepth bounds the nesting of a request's JSON. Variables are input
// objects and lists a schema declares; none of ours nests past a dozen
// levels. Decoding into interfaces costs an allocation and a stack frame
// per level, so a 256 KiB body of brackets would cost far more than an
// honest one of the same size.
const MaxDepth = 64

var (
	// ErrBatch: a JSON array of operations, which we do not serve.
	ErrBatch = errors.New("batched operations are not supported: send one operation per request")
	// ErrTooDeep: JSON nested deeper than MaxDepth.
	ErrTooDeep = errors.New("the request's JSON nests too deeply")
	// ErrMalformed: not one JSON object of a GraphQL request.
	ErrMalformed = errors.New("the body is not a single JSON GraphQL request")
)

// Decode fills p from body: one JSON object with query, operationName,
// variables and extensions (objects or null), numbers kept as written
// (json.Number, as gqlgen's scalars expect).
func Decode(body []byte, p *graphql.RawParams) error {
	if b := bytes.TrimLeft(body, " \t\r\n"); len(b) > 0 && b[0] == '[' {
		return ErrBatch
	}
	if !DepthWithin(body, MaxDepth) {
		return ErrTooDeep
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(p); err != nil {
		return ErrMalformed
	}
	// One value only: what follows it may be white space, nothing else.
	if _, err := dec.Token(); err != io.EOF {
		return ErrMalformed
	}
	return nil
}

// DepthWithin reports whether no object or array in b (well-formed or
// not) opens more than max levels deep. Brackets inside strings do not
// count. One pass over the bytes, no allocation.
func DepthWithin(b []byte, max int) bool {
	depth := 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			if depth++; depth > max {
				return false
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return true
}
