// Package search finds doctors: by specialty and rating, and by distance
// with PostGIS, with Relay cursors that stay stable across pages.
package search

import (
	"context"
	"math"
	"strconv"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/internal/geo"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/scalar"
	"github.com/healthmed/healthmed/internal/specialty"
)

const (
	// MaxWithinKm bounds a search's radius so one query cannot scan a
	// continent.
	MaxWithinKm  = 500
	DefaultFirst = 20
	MaxFirst     = 100
	// DistanceColumn is the selected distance in metres, exactly as the
	// cursor compares it, so pages neither repeat nor skip a doctor.
	DistanceColumn = "distance_m"
)

// DoctorArgs are the arguments of Query.doctors.
type DoctorArgs struct {
	Near     *geo.Point
	WithinKm *float64
	// Specialty is a name of the catalogue in either language (case and
	// accents aside), or the text of a doctor registered before it.
	Specialty     *string
	SpecialtyCode *string
	MinRating     *float64
	First         *int
	After         *scalar.Cursor
	// CountTotal asks for totalCount, which costs a second pass over
	// every match: only when the client selected it.
	CountTotal bool
}

// Doctors runs the search. With a point it orders by distance then id;
// without, by id.
func Doctors(ctx context.Context, client *ent.Client, a DoctorArgs) (*ent.DoctorConnection, error) {
	first, err := a.validate()
	if err != nil {
		return nil, err
	}
	q := client.Doctor.Query()
	if a.SpecialtyCode != nil {
		q.Where(doctor.SpecialtyCode(*a.SpecialtyCode))
	}
	if a.Specialty != nil {
		s, err := specialty.ByName(ctx, client, *a.Specialty)
		if err != nil {
			return nil, err
		}
		if s != nil {
			q.Where(doctor.SpecialtyCode(s.Code))
		} else {
			// A text the catalogue does not know is matched exactly
			// against the doctors whose own text it named nothing either.
			q.Where(doctor.SpecialtyCodeIsNil(), doctor.Specialty(*a.Specialty))
		}
	}
	if a.MinRating != nil {
		q.Where(doctor.RatingGTE(*a.MinRating))
	}
	if a.Near == nil {
		if err := scalar.Expect(a.After, scalar.KindID); err != nil {
			return nil, err
		}
		return q.Select(publicColumns...).Paginate(ctx, a.After, &first, nil, nil)
	}
	if err := scalar.Expect(a.After, scalar.KindFloat); err != nil {
		return nil, err
	}
	return nearest(ctx, q, a, first)
}

// publicColumns are the doctors' columns a search reads: every one but
// the credentials, which a search never needs.
var publicColumns = func() []string {
	var cols []string
	for _, c := range doctor.Columns {
		if c != doctor.FieldEmail && c != doctor.FieldPasswordHash {
			cols = append(cols, c)
		}
	}
	return cols
}()

// DistanceKm returns the distance a distance search selected for d.
func DistanceKm(d *ent.Doctor) (float64, bool) {
	m, ok := distanceM(d)
	return m / 1000, ok
}

func distanceM(d *ent.Doctor) (float64, bool) {
	v, err := d.Value(DistanceColumn)
	if err != nil {
		return 0, false
	}
	switch x := v.(type) {
	case float64:
		return x, true
	case []byte:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
	}
	return 0, false
}

func (a DoctorArgs) validate() (int, error) {
	first, err := gqlerr.Page(a.First, DefaultFirst, MaxFirst)
	if err != nil {
		return 0, err
	}
	if a.Near != nil {
		if err := a.Near.Validate(); err != nil {
			return 0, gqlerr.BadInput("near", "%s", err.Error())
		}
	}
	if a.WithinKm != nil {
		if a.Near == nil {
			return 0, gqlerr.BadInput("withinKm", "withinKm needs near")
		}
		if w := *a.WithinKm; math.IsNaN(w) || w <= 0 || w > MaxWithinKm {
			return 0, gqlerr.BadInput("withinKm", "withinKm must be greater than 0 and at most %d", MaxWithinKm)
		}
	}
	if a.SpecialtyCode != nil && len(*a.SpecialtyCode) > specialty.MaxCodeLength {
		return 0, gqlerr.BadInput("specialtyCode", "not a code of the specialties catalogue")
	}
	if a.MinRating != nil {
		if r := *a.MinRating; math.IsNaN(r) || r < 0 || r > 5 {
			return 0, gqlerr.BadInput("minRating", "minRating must be between 0 and 5")
		}
	}
	return first, nil
}
