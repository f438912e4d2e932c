package scalar

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/healthmed/healthmed/internal/fuzzbound"
)

func TestRatingCursorRoundTripsAndKeepsToItsList(t *testing.T) {
	for _, c := range []Cursor{
		{ID: 1, Value: Rating{Score: 3}},
		{ID: math.MaxInt, Value: Rating{Score: 5}},
		{ID: 4294967297, Value: Rating{Score: 0}},
		{ID: 7, Value: Rating{Score: 4.153846153846154}},
	} {
		s := EncodeCursor(c)
		if len(s) > MaxCursorLength {
			t.Fatalf("%v encodes to %d characters", c, len(s))
		}
		got, err := UnmarshalCursor(s)
		if err != nil || got != c {
			t.Fatalf("%q decodes to %#v, %v; want %#v", s, got, err, c)
		}
		if Expect(&got, KindRating) != nil || Expect(&got, KindFloat) == nil {
			t.Fatalf("%q is not only a rating cursor", s)
		}
	}
	// A distance cursor with the same number is another list's.
	dist := Cursor{ID: 1, Value: 3.0}
	if Expect(&dist, KindRating) == nil {
		t.Fatal("a distance cursor was taken for a rating one")
	}
	score := func(f float64) []byte {
		return binary.BigEndian.AppendUint64([]byte{byte(KindRating), 1}, math.Float64bits(f))
	}
	for name, s := range map[string]string{
		"truncated":   raw(byte(KindRating), 1, 2),
		"over 5":      raw(score(5.000001)...),
		"negative":    raw(score(-1)...),
		"NaN":         raw(score(math.NaN())...),
		"infinite":    raw(score(math.Inf(1))...),
		"trailing":    EncodeCursor(Cursor{ID: 1, Value: Rating{Score: 4}}) + "A",
		"no score":    raw(byte(KindRating), 1),
		"extra bytes": raw(append(score(4), 0)...),
	} {
		if c, err := UnmarshalCursor(s); !isBadInput(err) {
			t.Fatalf("%s: got %#v, %v", name, c, err)
		}
	}
}

// FuzzRatingCursor: whatever follows the rating kind byte, a cursor is
// refused as BAD_USER_INPUT or is a canonical position with a score
// between 0 and 5.
func FuzzRatingCursor(f *testing.F) {
	f.Add(binary.BigEndian.AppendUint64([]byte{1}, math.Float64bits(4.5)))
	f.Add(binary.BigEndian.AppendUint64([]byte{1}, math.Float64bits(6)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, rest []byte) {
		s := raw(append([]byte{byte(KindRating)}, rest...)...)
		var c Cursor
		var err error
		fuzzbound.Within(t, "a cursor", func() { c, err = UnmarshalCursor(s) })
		if err != nil {
			if !isBadInput(err) {
				t.Fatalf("%q: %v is not BAD_USER_INPUT", s, err)
			}
			return
		}
		v, ok := c.Value.(Rating)
		if !ok || KindOf(c) != KindRating || math.IsNaN(v.Score) || v.Score < 0 || v.Score > 5 || c.ID < 0 {
			t.Fatalf("%q: %#v", s, c)
		}
		if again := EncodeCursor(c); again != s {
			t.Fatalf("%q decodes to %#v, which encodes to %q", s, c, again)
		}
	})
}
