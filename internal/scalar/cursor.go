package scalar

import (
	"encoding/base64"
	"encoding/binary"
	"io"
	"math"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"

	"github.com/healthmed/healthmed/internal/gqlerr"
)

// Cursor is the Go type of the GraphQL Cursor: Ent's generated pagination
// takes it. Its Value is only ever nil (lists ordered by id), a time.Time
// or a finite float64 (a distance), because UnmarshalCursor makes nothing
// else.
type Cursor = entgql.Cursor[int]

// Kind is the type of a cursor's sort value, the first byte of its bytes.
type Kind byte

const (
	// KindID orders by id alone.
	KindID Kind = 'i'
	// KindTime orders by a timestamp, then id.
	KindTime Kind = 't'
	// KindFloat orders by a number, such as a distance in metres, then id.
	KindFloat Kind = 'f'
	// KindNewest orders newest first: by a timestamp, then id, both
	// descending.
	KindNewest Kind = 'n'
	// KindRating orders best rated first: by a rating score, then id,
	// both descending.
	KindRating Kind = 'r'
)

// Rating is the sort value of a best-rated-first list, a score between 0
// and 5. It is not a float64 so that a distance cursor is refused there.
type Rating struct{ Score float64 }

// Newest is the sort value of a newest-first list. It is not a time.Time
// so that a cursor of a list running forwards in time is refused there.
type Newest struct{ At time.Time }

const (
	// MaxCursorLength bounds a cursor before it is decoded; the longest
	// one written (a time cursor) is 36 characters.
	MaxCursorLength = 64
	maxCursorBytes  = 1 + binary.MaxVarintLen64 + binary.MaxVarintLen64 + binary.MaxVarintLen32
)

// Times outside years 1 to 9999 are refused: RFC 3339 cannot write them
// and PostgreSQL's timestamps may not hold them.
var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
)

var cursorEncoding = base64.RawURLEncoding.Strict()

// KindOf returns the kind of c's sort value.
func KindOf(c Cursor) Kind {
	switch c.Value.(type) {
	case time.Time:
		return KindTime
	case Newest:
		return KindNewest
	case float64:
		return KindFloat
	case Rating:
		return KindRating
	}
	return KindID
}

// MarshalCursor writes c compactly: its kind, the id and the sort value,
// in base64url. A cursor is opaque to clients.
func MarshalCursor(c Cursor) graphql.Marshaler {
	// Encoded now, while the field is resolved, so that a bug's panic is
	// that field's internal error rather than a broken response.
	s := `"` + EncodeCursor(c) + `"`
	return graphql.WriterFunc(func(w io.Writer) { io.WriteString(w, s) })
}

// EncodeCursor is MarshalCursor's string. A sort value of another type is
// a bug in the list that made it: it panics.
func EncodeCursor(c Cursor) string {
	if c.ID < 0 {
		panic("scalar: cursor with a negative id")
	}
	b := make([]byte, 0, maxCursorBytes)
	switch v := c.Value.(type) {
	case nil:
		b = append(b, byte(KindID))
		b = binary.AppendUvarint(b, uint64(c.ID))
	case time.Time:
		b = appendTime(append(b, byte(KindTime)), c.ID, v)
	case Newest:
		b = appendTime(append(b, byte(KindNewest)), c.ID, v.At)
	case float64:
		b = append(b, byte(KindFloat))
		b = binary.AppendUvarint(b, uint64(c.ID))
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(v))
	case Rating:
		b = append(b, byte(KindRating))
		b = binary.AppendUvarint(b, uint64(c.ID))
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(v.Score))
	default:
		panic("scalar: cursor sort value of unsupported type")
	}
	return cursorEncoding.EncodeToString(b)
}

// UnmarshalCursor reads what MarshalCursor wrote and nothing else: the
// length is checked before decoding, every field is bounded, and a value
// that does not re-encode to the same string (trailing or overlong bytes)
// is refused, so each position has exactly one cursor.
func UnmarshalCursor(v any) (Cursor, error) {
	s, ok := v.(string)
	if !ok || s == "" || len(s) > MaxCursorLength {
		return Cursor{}, badCursor()
	}
	var buf [maxCursorBytes + 8]byte
	if cursorEncoding.DecodedLen(len(s)) > len(buf) {
		return Cursor{}, badCursor()
	}
	n, err := cursorEncoding.Decode(buf[:], []byte(s))
	if err != nil {
		return Cursor{}, badCursor()
	}
	c, ok := decodeCursor(buf[:n])
	if !ok || EncodeCursor(c) != s {
		return Cursor{}, badCursor()
	}
	return c, nil
}

func decodeCursor(b []byte) (Cursor, bool) {
	if len(b) < 2 {
		return Cursor{}, false
	}
	kind, b := Kind(b[0]), b[1:]
	id, n := binary.Uvarint(b)
	if n <= 0 || id > math.MaxInt {
		return Cursor{}, false
	}
	c, b := Cursor{ID: int(id)}, b[n:]
	switch kind {
	case KindID:
	case KindTime, KindNewest:
		t, rest, ok := readTime(b)
		if !ok {
			return Cursor{}, false
		}
		c.Value, b = t, rest
		if kind == KindNewest {
			c.Value = Newest{At: t}
		}
	case KindFloat, KindRating:
		if len(b) < 8 {
			return Cursor{}, false
		}
		f := math.Float64frombits(binary.BigEndian.Uint64(b))
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return Cursor{}, false
		}
		c.Value, b = f, b[8:]
		if kind == KindRating {
			if f < 0 || f > 5 {
				return Cursor{}, false
			}
			c.Value = Rating{Score: f}
		}
	default:
		return Cursor{}, false
	}
	return c, len(b) == 0
}

func appendTime(b []byte, id int, t time.Time) []byte {
	b = binary.AppendUvarint(b, uint64(id))
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

func readTime(b []byte) (time.Time, []byte, bool) {
	sec, n := binary.Varint(b)
	if n <= 0 || sec < minTime || sec > maxTime {
		return time.Time{}, nil, false
	}
	b = b[n:]
	nsec, n := binary.Uvarint(b)
	if n <= 0 || nsec >= uint64(time.Second) {
		return time.Time{}, nil, false
	}
	return time.Unix(sec, int64(nsec)).UTC(), b[n:], true
}

func badCursor() error {
	return invalid("not a cursor of this API; start again from the first page")
}

// Expect refuses a cursor from a list ordered another way: a time compared
// with a distance would otherwise reach SQL. A nil cursor is the first
// page.
func Expect(after *Cursor, k Kind) error {
	if after != nil && KindOf(*after) != k {
		return gqlerr.BadInput("after", "this cursor belongs to another list")
	}
	return nil
}
