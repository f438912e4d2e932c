// Package scalar reads and writes the GraphQL scalars a stranger can send:
// ID, Cursor and Time. Each bounds its input before any decoding, so no
// value can cost more than a few hundred bytes of work, and each refuses a
// malformed value as BAD_USER_INPUT; the error presenter names the field
// from the argument's path.
package scalar

import (
	"github.com/healthmed/healthmed/internal/gqlerr"
)

// invalid is the refusal of a malformed value. The field stays empty: only
// the presenter knows which argument or input field held the value.
func invalid(format string, args ...any) error {
	return gqlerr.BadInput("", format, args...)
}
