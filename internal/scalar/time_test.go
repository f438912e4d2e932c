package scalar

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/fuzzbound"
)

func TestTimes(t *testing.T) {
	for _, s := range []string{"2025-01-31T14:30:00-03:00", "2025-01-31T17:30:00Z", "2025-01-31T17:30:00.123456789+00:00",
		"0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z"} {
		if _, err := UnmarshalTime(s); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
	}
	for _, v := range []any{"", "tomorrow", "2025-01-31", "2025-01-31T14:30:00", "2025-13-01T00:00:00Z",
		"2025-02-30T00:00:00Z", "2025-01-31T25:00:00Z", "2025-01-31T14:30:00+24:00", "2025-01-31 14:30:00Z",
		strings.Repeat("2", 1<<20), json.Number("1700000000"), int64(1700000000), nil, true, []any{}} {
		if got, err := UnmarshalTime(v); !isBadInput(err) {
			t.Fatalf("%#v: %v, %v", v, got, err)
		}
	}
}

func FuzzTime(f *testing.F) {
	for _, s := range []string{"2025-01-31T14:30:00-03:00", "2025-01-31T17:30:00.5Z", "", "2025-13-01T00:00:00Z", "0000-01-01T00:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var tm time.Time
		var err error
		fuzzbound.Within(t, "a time", func() { tm, err = UnmarshalTime(s) })
		if err != nil {
			if !isBadInput(err) {
				t.Fatalf("%q: %v is not BAD_USER_INPUT", s, err)
			}
			return
		}
		var buf bytes.Buffer
		MarshalTime(tm).MarshalGQL(&buf)
		var out string
		if err := json.Unmarshal(buf.Bytes(), &out); err != nil && !tm.IsZero() {
			t.Fatalf("%q written as %s", s, buf.String())
		}
		if tm.IsZero() {
			return
		}
		back, err := UnmarshalTime(out)
		if err != nil || !back.Equal(tm) {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, tm, out, back, err)
		}
	})
}

// TestTimesAreWrittenInUTC: an instant read with an offset, or carrying a
// zone, is written back in UTC.
func TestTimesAreWrittenInUTC(t *testing.T) {
	in, err := UnmarshalTime("2025-01-31T14:30:00-03:00")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	MarshalTime(in).MarshalGQL(&b)
	if b.String() != `"2025-01-31T17:30:00Z"` {
		t.Fatalf("written as %s", b.String())
	}
}
