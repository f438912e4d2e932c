package scalar

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/fuzzbound"
)

func TestNewestCursorRoundTripsAndKeepsToItsList(t *testing.T) {
	at := time.Date(2026, 12, 4, 17, 1, 2, 345678000, time.UTC)
	for _, c := range []Cursor{
		{ID: 1, Value: Newest{At: at}},
		{ID: math.MaxInt, Value: Newest{At: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{ID: 4294967297, Value: Newest{At: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)}},
	} {
		s := EncodeCursor(c)
		if len(s) > MaxCursorLength {
			t.Fatalf("%v encodes to %d characters", c, len(s))
		}
		got, err := UnmarshalCursor(s)
		if err != nil || got != c {
			t.Fatalf("%q decodes to %#v, %v; want %#v", s, got, err, c)
		}
		if Expect(&got, KindNewest) != nil || Expect(&got, KindTime) == nil {
			t.Fatalf("%q is not only a newest-first cursor", s)
		}
	}
	// A forward time cursor at the same instant is another list's.
	fwd := Cursor{ID: 1, Value: at}
	if Expect(&fwd, KindNewest) == nil {
		t.Fatal("a time cursor was taken for a newest-first one")
	}
	for name, s := range map[string]string{
		"truncated":    raw(byte(KindNewest), 1, 2),
		"year 10000":   raw(append(binary.AppendVarint([]byte{byte(KindNewest), 1}, maxTime+1), 0)...),
		"nanoseconds":  raw(append([]byte{byte(KindNewest), 1, 2}, binary.AppendUvarint(nil, uint64(time.Second))...)...),
		"trailing":     EncodeCursor(Cursor{ID: 1, Value: Newest{At: at}}) + "A",
		"no sort time": raw(byte(KindNewest), 1),
	} {
		if c, err := UnmarshalCursor(s); !isBadInput(err) {
			t.Fatalf("%s: got %#v, %v", name, c, err)
		}
	}
}

// FuzzNewestCursor: whatever follows the newest-first kind byte, a
// cursor is refused as BAD_USER_INPUT or is a canonical, in-range
// newest-first position.
func FuzzNewestCursor(f *testing.F) {
	f.Add([]byte{1, 2, 0})
	f.Add(binary.AppendUvarint(binary.AppendVarint(binary.AppendUvarint(nil, 4294967297), 1764867662), 345678000))
	f.Add(binary.AppendVarint([]byte{1}, maxTime+1))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, rest []byte) {
		s := raw(append([]byte{byte(KindNewest)}, rest...)...)
		var c Cursor
		var err error
		fuzzbound.Within(t, "a cursor", func() { c, err = UnmarshalCursor(s) })
		if err != nil {
			if !isBadInput(err) {
				t.Fatalf("%q: %v is not BAD_USER_INPUT", s, err)
			}
			return
		}
		v, ok := c.Value.(Newest)
		if !ok || KindOf(c) != KindNewest {
			t.Fatalf("%q: sort value %#v", s, c.Value)
		}
		if v.At.Location() != time.UTC || v.At.Year() < 1 || v.At.Year() > 9999 || c.ID < 0 {
			t.Fatalf("%q: %#v", s, c)
		}
		if again := EncodeCursor(c); again != s {
			t.Fatalf("%q decodes to %#v, which encodes to %q", s, c, again)
		}
	})
}
