package scalar

import (
	"encoding/json"
	"io"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
)

// maxIDLength is the longest decimal int64.
const maxIDLength = 19

// MarshalID writes a node id as the opaque string clients pass back.
func MarshalID(id int) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		io.WriteString(w, strconv.Quote(strconv.Itoa(id)))
	})
}

// UnmarshalID reads an id given as the string the server wrote, or as a
// number, as GraphQL allows.
func UnmarshalID(v any) (int, error) {
	switch x := v.(type) {
	case string:
		return parseID(x)
	case json.Number:
		return parseID(string(x))
	case int64:
		if x >= 0 {
			return int(x), nil
		}
	case int:
		if x >= 0 {
			return x, nil
		}
	}
	return 0, invalid("not a valid id")
}

// parseID accepts only what MarshalID writes: decimal digits, no sign, no
// leading zero, within an int.
func parseID(s string) (int, error) {
	if len(s) == 0 || len(s) > maxIDLength || (s[0] == '0' && len(s) > 1) {
		return 0, invalid("not a valid id")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, invalid("not a valid id")
		}
	}
	n, err := strconv.ParseInt(s, 10, strconv.IntSize)
	if err != nil {
		return 0, invalid("not a valid id")
	}
	return int(n), nil
}
