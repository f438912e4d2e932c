package scalar

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/fuzzbound"
	"github.com/healthmed/healthmed/internal/gqlerr"
)

func raw(b ...byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func floatCursor(f float64) string {
	b := binary.BigEndian.AppendUint64([]byte{byte(KindFloat), 7}, math.Float64bits(f))
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestCursorRoundTrips(t *testing.T) {
	at := time.Date(2025, 3, 9, 14, 30, 1, 123456000, time.FixedZone("BRT", -3*3600))
	for _, c := range []Cursor{
		{ID: 0}, {ID: 1}, {ID: math.MaxInt},
		{ID: 4294967297, Value: at},
		{ID: 5, Value: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{ID: 5, Value: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		{ID: 9, Value: 0.0}, {ID: 9, Value: 1234.5678901234}, {ID: 9, Value: math.MaxFloat64},
	} {
		s := EncodeCursor(c)
		if len(s) > MaxCursorLength {
			t.Fatalf("%v encodes to %d characters", c, len(s))
		}
		got, err := UnmarshalCursor(s)
		if err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		want := c
		if tm, ok := c.Value.(time.Time); ok {
			want.Value = tm.UTC()
		}
		if got != want {
			t.Fatalf("%q decodes to %#v, want %#v", s, got, want)
		}
	}
}

func TestCursorRefusesMalformed(t *testing.T) {
	valid := EncodeCursor(Cursor{ID: 42, Value: time.Unix(1700000000, 0)})
	nested := append([]byte{0x82, 0xa1, 'i', 0x01, 0xa1, 'v'}, bytes.Repeat([]byte{0x91}, 200_000)...)
	cases := map[string]any{
		"empty":                 "",
		"not a string":          json.Number("5"),
		"a number":              int64(5),
		"a list":                []any{"a"},
		"not base64":            "!!!!",
		"padded base64":         valid + "==",
		"standard alphabet":     strings.NewReplacer("-", "+", "_", "/").Replace(EncodeCursor(Cursor{ID: 1 << 62, Value: 1.0 / 3})) + "+",
		"old entgql cursor":     "gaFpzwAAAAIAAAAA",
		"msgpack bomb":          base64.RawStdEncoding.EncodeToString(nested),
		"too long":              strings.Repeat("A", MaxCursorLength+1),
		"unknown kind":          raw('x', 1),
		"kind only":             raw(byte(KindID)),
		"trailing byte":         raw(byte(KindID), 1, 0),
		"overlong varint":       raw(byte(KindID), 0x81, 0x00),
		"id overflows int":      raw(append([]byte{byte(KindID)}, binary.AppendUvarint(nil, math.MaxUint64)...)...),
		"truncated time":        raw(byte(KindTime), 1, 2),
		"nanoseconds overflow":  raw(append([]byte{byte(KindTime), 1, 2}, binary.AppendUvarint(nil, uint64(time.Second))...)...),
		"year 10000":            raw(append(binary.AppendVarint([]byte{byte(KindTime), 1}, maxTime+1), 0)...),
		"year 0":                raw(append(binary.AppendVarint([]byte{byte(KindTime), 1}, minTime-1), 0)...),
		"truncated float":       raw(byte(KindFloat), 1, 0, 0, 0),
		"NaN":                   floatCursor(math.NaN()),
		"+Inf":                  floatCursor(math.Inf(1)),
		"-Inf":                  floatCursor(math.Inf(-1)),
		"non-canonical padding": valid[:len(valid)-1] + "B",
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) {
			if c, err := UnmarshalCursor(v); !isBadInput(err) {
				t.Fatalf("%v: got %#v, %v", v, c, err)
			}
		})
	}
}

func TestCursorDecodingCostsNothingWhateverTheInput(t *testing.T) {
	huge := strings.Repeat("kZGRkZGR", 1<<17) // a megabyte of nested msgpack arrays
	valid := EncodeCursor(Cursor{ID: 4294967297, Value: time.Now()})
	for _, s := range []string{huge, valid, valid[:len(valid)-2]} {
		if b := bytesPerCall(func() { _, _ = UnmarshalCursor(s) }); b > 512 {
			t.Fatalf("unmarshalling a %d-character cursor allocated %d bytes", len(s), b)
		}
	}
}

func TestExpectRefusesACursorOfAnotherList(t *testing.T) {
	tm, f, id := Cursor{ID: 1, Value: time.Now()}, Cursor{ID: 1, Value: 2.5}, Cursor{ID: 1}
	if Expect(nil, KindTime) != nil || Expect(&tm, KindTime) != nil || Expect(&f, KindFloat) != nil || Expect(&id, KindID) != nil {
		t.Fatal("refused a cursor of its own list")
	}
	for _, c := range []struct {
		c Cursor
		k Kind
	}{{tm, KindFloat}, {f, KindTime}, {id, KindTime}, {tm, KindID}} {
		err := Expect(&c.c, c.k)
		var e *gqlerr.Error
		if !errors.As(err, &e) || e.Code != gqlerr.BadUserInput || e.Field != "after" {
			t.Fatalf("%#v as %c: %v", c.c, c.k, err)
		}
	}
}

func FuzzCursor(f *testing.F) {
	f.Add(EncodeCursor(Cursor{ID: 1}))
	f.Add(EncodeCursor(Cursor{ID: 4294967297, Value: time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)}))
	f.Add(EncodeCursor(Cursor{ID: 3, Value: 1523.25}))
	f.Add(EncodeCursor(Cursor{ID: 5, Value: Rating{Score: 4.15}}))
	f.Add(floatCursor(math.Inf(1)))
	f.Add("gaFpzwAAAAIAAAAA")
	f.Add(base64.RawStdEncoding.EncodeToString(append(bytes.Repeat([]byte{0x91}, 40), 0xc0)))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		var c Cursor
		var err error
		fuzzbound.Within(t, "a cursor", func() { c, err = UnmarshalCursor(s) })
		if err != nil {
			if !isBadInput(err) {
				t.Fatalf("%q: %v is not BAD_USER_INPUT", s, err)
			}
			return
		}
		if len(s) > MaxCursorLength {
			t.Fatalf("accepted a %d-character cursor", len(s))
		}
		switch v := c.Value.(type) {
		case nil:
		case time.Time:
			if v.Location() != time.UTC || v.Year() < 1 || v.Year() > 9999 {
				t.Fatalf("%q: time %v", s, v)
			}
		case Newest:
			if v.At.Location() != time.UTC || v.At.Year() < 1 || v.At.Year() > 9999 {
				t.Fatalf("%q: time %v", s, v.At)
			}
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%q: float %v", s, v)
			}
		case Rating:
			if math.IsNaN(v.Score) || math.IsInf(v.Score, 0) {
				t.Fatalf("%q: score %v", s, v.Score)
			}
		default:
			t.Fatalf("%q: sort value of type %T", s, v)
		}
		if c.ID < 0 {
			t.Fatalf("%q: id %d", s, c.ID)
		}
		if again := EncodeCursor(c); again != s {
			t.Fatalf("%q decodes to %#v, which encodes to %q", s, c, again)
		}
	})
}
