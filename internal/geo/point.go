// Package geo holds the point type behind PostGIS geography(Point,4326)
// columns.
//
// Point is stored through Ent as field.Other. It writes extended
// well-known text, which PostgreSQL casts to geography on its own, and
// reads the hex-encoded extended well-known binary that PostgreSQL prints
// for a geography value, as well as raw (E)WKB from ST_AsBinary or
// ST_AsEWKB.
//
// A Point never holds NULL. For an optional column declare the Ent field
// Optional().Nillable(): Ent then scans through sql.NullScanner, which
// handles NULL before Point.Scan is called, and the entity field becomes a
// *Point. A nil *Point given as a query argument is sent as NULL. Outside
// Ent, scan a nullable column into a NullPoint.
package geo

import (
	"database/sql/driver"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// SRID is the spatial reference of every Point: WGS 84 longitude and
// latitude in degrees.
const SRID = 4326

// ErrNull is returned when NULL is scanned into a Point.
var ErrNull = errors.New("geo: NULL scanned into a Point; use NullPoint or a nillable field")

// Point is a WGS 84 position in degrees.
type Point struct {
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
}

// Validate refuses positions that are not on Earth: latitude outside
// [-90, 90], longitude outside [-180, 180], NaN or infinities.
func (p Point) Validate() error {
	switch {
	case math.IsNaN(p.Lat) || math.IsInf(p.Lat, 0) || p.Lat < -90 || p.Lat > 90:
		return errors.New("latitude must be within [-90, 90]")
	case math.IsNaN(p.Lng) || math.IsInf(p.Lng, 0) || p.Lng < -180 || p.Lng > 180:
		return errors.New("longitude must be within [-180, 180]")
	}
	return nil
}

// EWKT is the point as PostGIS extended well-known text,
// "SRID=4326;POINT(lng lat)", longitude first. The coordinates are written
// with the fewest digits that read back to the same float64, which may be
// in exponent form (1e-07); PostGIS parses both. EWKT does not validate:
// call Validate before putting the text into SQL.
func (p Point) EWKT() string {
	return "SRID=4326;POINT(" + strconv.FormatFloat(p.Lng, 'g', -1, 64) + " " +
		strconv.FormatFloat(p.Lat, 'g', -1, 64) + ")"
}

// String is the EWKT form.
func (p Point) String() string { return p.EWKT() }

// Value implements driver.Valuer. It validates the point and writes its
// EWKT, which PostgreSQL casts to geography on insert and in comparisons.
func (p Point) Value() (driver.Value, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("geo: %w", err)
	}
	return p.EWKT(), nil
}

// Scan implements sql.Scanner. It accepts a string or []byte holding
// either hex-encoded EWKB (what lib/pq returns for a geography column) or
// raw EWKB/WKB (what it returns for ST_AsEWKB or ST_AsBinary), in either
// byte order, with or without an SRID; an SRID other than 4326 is refused,
// and a missing one is taken to be 4326. Only a two-dimensional point
// whose coordinates pass Validate is accepted (so POINT EMPTY is refused),
// and p is left unchanged on error. NULL yields ErrNull.
func (p *Point) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		return ErrNull
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("geo: cannot scan %T into a Point", src)
	}
	q, err := decode(b)
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// EWKB type word: the geometry type in the low bits, flags in the high ones.
const (
	wkbPoint = 1
	flagZ    = 0x80000000
	flagM    = 0x40000000
	flagSRID = 0x20000000
	typeMask = 0x0fffffff
)

// decode reads a point from hex-encoded or raw (E)WKB.
func decode(b []byte) (Point, error) {
	if len(b) == 0 {
		return Point{}, errors.New("geo: empty value")
	}
	// Raw (E)WKB starts with its byte-order byte, 0x00 or 0x01; the hex
	// form starts with that byte's first digit, the character '0'.
	if b[0] == '0' {
		raw := make([]byte, hex.DecodedLen(len(b)))
		if _, err := hex.Decode(raw, b); err != nil {
			return Point{}, fmt.Errorf("geo: bad hex EWKB: %w", err)
		}
		b = raw
	}
	return decodeEWKB(b)
}

func decodeEWKB(b []byte) (Point, error) {
	if len(b) < 5 {
		return Point{}, errors.New("geo: EWKB too short")
	}
	var order binary.ByteOrder
	switch b[0] {
	case 0:
		order = binary.BigEndian
	case 1:
		order = binary.LittleEndian
	default:
		return Point{}, fmt.Errorf("geo: bad EWKB byte order %#x", b[0])
	}
	typ := order.Uint32(b[1:5])
	if typ&(flagZ|flagM) != 0 || typ&typeMask != wkbPoint {
		return Point{}, fmt.Errorf("geo: EWKB is not a 2D point (type %#x)", typ)
	}
	rest := b[5:]
	if typ&flagSRID != 0 {
		if len(rest) < 4 {
			return Point{}, errors.New("geo: EWKB too short")
		}
		if srid := order.Uint32(rest); srid != SRID {
			return Point{}, fmt.Errorf("geo: SRID %d, want %d", srid, SRID)
		}
		rest = rest[4:]
	}
	if len(rest) != 16 {
		return Point{}, fmt.Errorf("geo: EWKB point has %d coordinate bytes, want 16", len(rest))
	}
	p := Point{
		Lng: math.Float64frombits(order.Uint64(rest)),
		Lat: math.Float64frombits(order.Uint64(rest[8:])),
	}
	if err := p.Validate(); err != nil {
		return Point{}, fmt.Errorf("geo: stored point: %w", err)
	}
	return p, nil
}

// EarthRadiusKm is the mean radius DistanceKm uses (IUGG R1).
const EarthRadiusKm = 6371.0088

// DistanceKm is the great-circle (haversine) distance between a and b on a
// sphere of radius EarthRadiusKm. It is for seeding, tests and sanity
// checks only: queries must use PostGIS, whose geography distance is
// measured on the WGS 84 spheroid and is the authority. The two differ by
// up to about 0.6%, least for east-west and most for north-south paths
// near the equator; across Brazil, typically 0.1% to 0.5%.
func DistanceKm(a, b Point) float64 {
	const rad = math.Pi / 180
	la1, la2 := a.Lat*rad, b.Lat*rad
	sLat := math.Sin((la2 - la1) / 2)
	sLng := math.Sin((b.Lng - a.Lng) * rad / 2)
	h := sLat*sLat + math.Cos(la1)*math.Cos(la2)*sLng*sLng
	return 2 * EarthRadiusKm * math.Asin(math.Sqrt(math.Min(1, h)))
}
