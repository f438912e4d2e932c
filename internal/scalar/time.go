package scalar

import (
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// maxTimeLength is RFC 3339 with nanoseconds and an offset, with room to
// spare; anything longer is refused unread.
const maxTimeLength = 40

// MarshalTime writes RFC 3339 in UTC ("Z"), whatever zone the value
// carries (the database session's, the process's): one form for clients
// to compare and cache; they display it in the doctor's timezone.
func MarshalTime(t time.Time) graphql.Marshaler { return graphql.MarshalTime(t.UTC()) }

// UnmarshalTime reads RFC 3339 with an offset. Unlike gqlgen's scalar, an
// empty string is refused rather than read as the zero time.
func UnmarshalTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok || s == "" || len(s) > maxTimeLength {
		return time.Time{}, invalid("not an RFC 3339 time with offset, e.g. 2025-01-31T14:30:00-03:00")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	// Go reads offsets up to ±24:59; RFC 3339's hours end at 23.
	if _, off := t.Zone(); err != nil || off <= -24*3600 || off >= 24*3600 {
		return time.Time{}, invalid("not an RFC 3339 time with offset, e.g. 2025-01-31T14:30:00-03:00")
	}
	return t, nil
}
