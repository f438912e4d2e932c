package scalar

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/healthmed/healthmed/internal/fuzzbound"
)

func TestIDs(t *testing.T) {
	for v, want := range map[any]int{"1": 1, "4294967297": 4294967297, json.Number("12"): 12, int64(7): 7, 3: 3, "0": 0,
		"9223372036854775807": math.MaxInt} {
		if got, err := UnmarshalID(v); err != nil || got != want {
			t.Fatalf("%#v: %d, %v", v, got, err)
		}
	}
	for _, v := range []any{"", "abc", "-1", "+1", "01", " 1", "1 ", "1e3", "1.0", "9223372036854775808",
		strings.Repeat("9", 1<<20), json.Number("1.5"), json.Number("-2"), int64(-1), -1, 1.5, true, nil, []any{"1"},
		map[string]any{"id": "1"}, "١٢"} {
		if got, err := UnmarshalID(v); !isBadInput(err) {
			t.Fatalf("%#v: %d, %v", v, got, err)
		}
	}
}

func FuzzID(f *testing.F) {
	for _, s := range []string{"1", "0", "4294967297", "-1", "01", "abc", "9223372036854775808", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var id int
		var err error
		fuzzbound.Within(t, "an id", func() { id, err = UnmarshalID(s) })
		if err != nil {
			if !isBadInput(err) {
				t.Fatalf("%q: %v is not BAD_USER_INPUT", s, err)
			}
			return
		}
		var buf bytes.Buffer
		MarshalID(id).MarshalGQL(&buf)
		if id < 0 || buf.String() != `"`+s+`"` {
			t.Fatalf("%q decodes to %d, written %s", s, id, buf.String())
		}
	})
}
