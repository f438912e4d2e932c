package geo

import (
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"strings"
	"testing"
)

// tenth and fifth are variables so that their sum is rounded at run time,
// as stored coordinates are, not folded to an exact constant.
var tenth, fifth = 0.1, 0.2

// saoPaulo is POINT(-46.6333 -23.5505); the vectors below were printed by
// PostGIS 3.3 for it: the geography's text output, and ST_AsEWKB and
// ST_AsBinary in both byte orders.
var saoPaulo = Point{Lat: -23.5505, Lng: -46.6333}

var ewkbVectors = []struct {
	name string
	hex  string
	want Point
}{
	{"little endian with SRID (geography text output)", "0101000020E6100000454772F90F5147C0B0726891ED8C37C0", saoPaulo},
	{"big endian with SRID", "0020000001000010e6c047510ff9724745c0378ced916872b0", saoPaulo},
	{"little endian without SRID", "0101000000454772f90f5147c0b0726891ed8c37c0", saoPaulo},
	{"big endian without SRID", "0000000001c047510ff9724745c0378ced916872b0", saoPaulo},
	{"POINT(1 2) little endian with SRID", "0101000020E6100000000000000000F03F0000000000000040", Point{Lat: 2, Lng: 1}},
	{"POINT(1 2) big endian with SRID", "0020000001000010E63FF00000000000004000000000000000", Point{Lat: 2, Lng: 1}},
	{"tiny coordinates in exponent form", "0101000020E610000048AFBC9AF2D77A3E95D626E80B2EF1BD", Point{Lat: -2.5e-10, Lng: 1e-07}},
}

func TestScanEWKBVectors(t *testing.T) {
	for _, v := range ewkbVectors {
		raw, err := hex.DecodeString(v.hex)
		if err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
		srcs := map[string]any{
			"hex string":        v.hex,
			"hex []byte":        []byte(v.hex),
			"lower-case hex":    strings.ToLower(v.hex),
			"upper-case hex":    strings.ToUpper(v.hex),
			"raw binary":        raw,
			"raw binary string": string(raw),
		}
		for kind, src := range srcs {
			var p Point
			if err := p.Scan(src); err != nil {
				t.Errorf("%s, %s: %v", v.name, kind, err)
				continue
			}
			if p != v.want {
				t.Errorf("%s, %s: got %+v, want %+v", v.name, kind, p, v.want)
			}
		}
	}
}

// encode writes p as (E)WKB, for round trips through Scan.
func encode(p Point, order binary.AppendByteOrder, withSRID bool) []byte {
	b := []byte{1}
	if order == binary.AppendByteOrder(binary.BigEndian) {
		b[0] = 0
	}
	typ := uint32(wkbPoint)
	if withSRID {
		typ |= flagSRID
	}
	b = order.AppendUint32(b, typ)
	if withSRID {
		b = order.AppendUint32(b, SRID)
	}
	b = order.AppendUint64(b, math.Float64bits(p.Lng))
	return order.AppendUint64(b, math.Float64bits(p.Lat))
}

func TestScanRoundTrip(t *testing.T) {
	points := []Point{
		saoPaulo,
		{Lat: -3.7319, Lng: -38.5267},
		{Lat: 0, Lng: 0},
		{Lat: math.Copysign(0, -1), Lng: math.Copysign(0, -1)},
		{Lat: 90, Lng: 180},
		{Lat: -90, Lng: -180},
		{Lat: tenth + fifth, Lng: -tenth - fifth},
		{Lat: 1e-300, Lng: -5e-324},
		{Lat: math.Nextafter(90, 0), Lng: math.Nextafter(-180, 0)},
		{Lat: -33.75064712345678, Lng: -53.39589912345678},
	}
	orders := map[string]binary.AppendByteOrder{"little": binary.LittleEndian, "big": binary.BigEndian}
	for _, p := range points {
		for oname, order := range orders {
			for _, withSRID := range []bool{true, false} {
				raw := encode(p, order, withSRID)
				for _, src := range []any{hex.EncodeToString(raw), []byte(strings.ToUpper(hex.EncodeToString(raw))), raw} {
					var got Point
					if err := got.Scan(src); err != nil {
						t.Fatalf("%+v %s-endian srid=%v %T: %v", p, oname, withSRID, src, err)
					}
					if math.Float64bits(got.Lat) != math.Float64bits(p.Lat) || math.Float64bits(got.Lng) != math.Float64bits(p.Lng) {
						t.Errorf("%+v %s-endian srid=%v %T: got %+v", p, oname, withSRID, src, got)
					}
				}
			}
		}
	}
}

func TestScanErrors(t *testing.T) {
	le := hex.EncodeToString(encode(saoPaulo, binary.LittleEndian, true))
	setType := func(typ uint32) string {
		b := encode(saoPaulo, binary.LittleEndian, true)
		binary.LittleEndian.PutUint32(b[1:], typ)
		return hex.EncodeToString(b)
	}
	setSRID := func(srid uint32) string {
		b := encode(saoPaulo, binary.LittleEndian, true)
		binary.LittleEndian.PutUint32(b[5:], srid)
		return hex.EncodeToString(b)
	}
	cases := []struct {
		name string
		src  any
	}{
		{"int", 42},
		{"float", 1.5},
		{"Point value", saoPaulo},
		{"empty string", ""},
		{"empty bytes", []byte{}},
		{"odd-length hex", le[:len(le)-1]},
		{"non-hex characters", "01zz" + le[4:]},
		{"EWKT", "SRID=4326;POINT(-46.6333 -23.5505)"},
		{"byte order 2 (hex)", "02" + le[2:]},
		{"byte order 2 (raw)", []byte{2, 1, 0, 0, 0}},
		{"header only", le[:10]},
		{"SRID cut short", le[:14]},
		{"one coordinate", le[:18+16]},
		{"trailing bytes", le + "00"},
		{"linestring", setType(2 | flagSRID)},
		{"multipoint", setType(4 | flagSRID)},
		{"EWKB Z flag", setType(wkbPoint | flagSRID | flagZ)},
		{"EWKB M flag", setType(wkbPoint | flagSRID | flagM)},
		{"ISO WKB point Z", setType(1001)},
		{"ISO WKB point M", setType(2001)},
		{"SIRGAS 2000 SRID", setSRID(4674)},
		{"zero SRID", setSRID(0)},
		{"web mercator SRID", setSRID(3857)},
		{"POINT EMPTY", "0101000020E6100000000000000000F87F000000000000F87F"},
		{"latitude out of range", hex.EncodeToString(encode(Point{Lat: 91, Lng: 0}, binary.BigEndian, false))},
		{"longitude out of range", hex.EncodeToString(encode(Point{Lat: 0, Lng: -180.5}, binary.LittleEndian, false))},
		{"infinite latitude", hex.EncodeToString(encode(Point{Lat: math.Inf(1), Lng: 0}, binary.LittleEndian, true))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := Point{Lat: 1, Lng: 2}
			if err := p.Scan(tc.src); err == nil {
				t.Fatalf("Scan(%v) = %+v, want an error", tc.src, p)
			}
			if p != (Point{Lat: 1, Lng: 2}) {
				t.Errorf("failed Scan changed the point to %+v", p)
			}
		})
	}
}

func TestScanNull(t *testing.T) {
	p := Point{Lat: 1, Lng: 2}
	if err := p.Scan(nil); !errors.Is(err, ErrNull) {
		t.Errorf("Scan(nil) = %v, want ErrNull", err)
	}
	if p != (Point{Lat: 1, Lng: 2}) {
		t.Errorf("Scan(nil) changed the point to %+v", p)
	}
}

// A Point is what database/sql scans and sends.
var (
	_ sql.Scanner   = (*Point)(nil)
	_ driver.Valuer = Point{}
)

func TestEWKTAndValue(t *testing.T) {
	cases := []struct {
		p    Point
		want string
	}{
		{saoPaulo, "SRID=4326;POINT(-46.6333 -23.5505)"},
		{Point{Lat: 2, Lng: 1}, "SRID=4326;POINT(1 2)"},
		{Point{}, "SRID=4326;POINT(0 0)"},
		{Point{Lat: -90, Lng: 180}, "SRID=4326;POINT(180 -90)"},
		{Point{Lat: tenth + fifth, Lng: 1.0 / 3}, "SRID=4326;POINT(0.3333333333333333 0.30000000000000004)"},
		{Point{Lat: -2.5e-10, Lng: 1e-07}, "SRID=4326;POINT(1e-07 -2.5e-10)"},
	}
	for _, tc := range cases {
		if got := tc.p.EWKT(); got != tc.want {
			t.Errorf("%+v.EWKT() = %q, want %q", tc.p, got, tc.want)
		}
		if got := tc.p.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.p, got, tc.want)
		}
		v, err := tc.p.Value()
		if err != nil || v != tc.want {
			t.Errorf("%+v.Value() = %v, %v", tc.p, v, err)
		}
		if !driver.IsValue(v) {
			t.Errorf("%+v.Value() = %T, not a driver.Value", tc.p, v)
		}
	}
	for _, p := range []Point{{Lat: math.NaN()}, {Lng: math.Inf(-1)}, {Lat: 90.0001}, {Lng: 181}} {
		if v, err := p.Value(); err == nil {
			t.Errorf("%+v.Value() = %v, want an error", p, v)
		}
	}
}

// A nil *Point is sent as NULL, which is what Ent relies on for a
// nillable field.
func TestNilPointArgument(t *testing.T) {
	v, err := driver.DefaultParameterConverter.ConvertValue((*Point)(nil))
	if v != nil || err != nil {
		t.Errorf("ConvertValue((*Point)(nil)) = %v, %v", v, err)
	}
	v, err = driver.DefaultParameterConverter.ConvertValue(&saoPaulo)
	if v != saoPaulo.EWKT() || err != nil {
		t.Errorf("ConvertValue(&p) = %v, %v", v, err)
	}
}

func TestValidate(t *testing.T) {
	valid := []Point{
		{}, saoPaulo,
		{Lat: 90, Lng: 180}, {Lat: -90, Lng: -180}, {Lat: 90, Lng: -180}, {Lat: -90, Lng: 180},
		{Lat: math.Copysign(0, -1), Lng: math.Copysign(0, -1)},
		{Lat: 5e-324, Lng: -5e-324},
	}
	for _, p := range valid {
		if err := p.Validate(); err != nil {
			t.Errorf("%+v.Validate() = %v", p, err)
		}
	}
	invalid := []struct {
		p     Point
		field string
	}{
		{Point{Lat: math.Nextafter(90, 91)}, "latitude"},
		{Point{Lat: -90.5}, "latitude"},
		{Point{Lat: math.NaN()}, "latitude"},
		{Point{Lat: math.Inf(1)}, "latitude"},
		{Point{Lat: math.Inf(-1)}, "latitude"},
		{Point{Lng: math.Nextafter(180, 181)}, "longitude"},
		{Point{Lng: -180.0001}, "longitude"},
		{Point{Lng: 360}, "longitude"},
		{Point{Lng: math.NaN()}, "longitude"},
		{Point{Lng: math.Inf(1)}, "longitude"},
		{Point{Lat: -23.5505, Lng: math.Inf(-1)}, "longitude"},
		// Swapped coordinates of a point in Brazil fall out of range.
		{Point{Lat: -46.6333, Lng: -23.5505}, ""},
	}
	for _, tc := range invalid {
		err := tc.p.Validate()
		if tc.field == "" {
			// -46.6333 is a valid latitude: Validate cannot catch every
			// swap, only those that leave the range.
			if err != nil {
				t.Errorf("%+v.Validate() = %v", tc.p, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%+v.Validate() = %v, want a %s error", tc.p, err, tc.field)
		}
	}
}

func TestDistanceKm(t *testing.T) {
	rio := Point{Lat: -22.9068, Lng: -43.1729}
	cases := []struct {
		name string
		a, b Point
		want float64
		tol  float64
	}{
		{"same point", saoPaulo, saoPaulo, 0, 0},
		{"one degree of longitude on the equator", Point{}, Point{Lng: 1}, EarthRadiusKm * math.Pi / 180, 1e-9},
		{"one degree of latitude", Point{Lat: -10, Lng: -50}, Point{Lat: -11, Lng: -50}, EarthRadiusKm * math.Pi / 180, 1e-9},
		{"equator to pole", Point{Lng: -47}, Point{Lat: 90, Lng: 10}, EarthRadiusKm * math.Pi / 2, 1e-9},
		{"antipodes", Point{Lat: -23.5, Lng: -46.5}, Point{Lat: 23.5, Lng: 133.5}, EarthRadiusKm * math.Pi, 1e-6},
		{"across the antimeridian", Point{Lng: 179.5}, Point{Lng: -179.5}, EarthRadiusKm * math.Pi / 180, 1e-9},
		// Checked against an independent haversine implementation.
		{"São Paulo to Rio de Janeiro", saoPaulo, rio, 360.749323197399, 1e-6},
	}
	for _, tc := range cases {
		got := DistanceKm(tc.a, tc.b)
		if math.Abs(got-tc.want) > tc.tol {
			t.Errorf("%s: DistanceKm = %.9f, want %.9f", tc.name, got, tc.want)
		}
		if back := DistanceKm(tc.b, tc.a); math.Abs(back-got) > 1e-9 {
			t.Errorf("%s: not symmetric: %.12f vs %.12f", tc.name, got, back)
		}
	}
}
