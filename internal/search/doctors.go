// Package search finds doctors: by specialty and rating, and by distance
// with PostGIS, with Relay cursors that stay stable across pages.
package search

import (
	"context"
	"math"
	"slices"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/ent/predicate"
	"github.com/healthmed/healthmed/internal/db"
	"github.com/healthmed/healthmed/internal/geo"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/profile"
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
	DistanceColumn = ent.DoctorDistanceColumn
)

// DoctorArgs are the arguments of Query.doctors.
type DoctorArgs struct {
	Near     *geo.Point
	WithinKm *float64
	// Specialty is a name of the catalogue in either language (case and
	// accents aside), or the text of a doctor registered before it.
	Specialty     *string
	SpecialtyCode *string
	// Catalogue resolves Specialty; it remembers the entries it has read.
	Catalogue *specialty.Catalogue
	MinRating *float64
	// Name is a prefix of the doctor's name, City the city of their
	// address, both case and accents aside; State a federative unit.
	Name, City, State *string
	Mode              *profile.ConsultationMode
	// MinPriceCents and MaxPriceCents bound the consultation's price.
	MinPriceCents, MaxPriceCents *int
	// FreeBefore keeps the doctors with a free slot starting before it.
	FreeBefore *time.Time
	// OrderBy is the order; nil orders by distance with a point, else by
	// id.
	OrderBy *Order
	// Now is the clock a free slot is ahead of (the agenda's).
	Now   func() time.Time
	First *int
	After *scalar.Cursor
	// CountTotal asks for totalCount, a second statement counting the
	// matches up to MaxTotalCount: only when the client selected it.
	CountTotal bool
	// Fields are the Doctor fields the client selected on the page's
	// nodes: only the columns they need are read. Nil reads every public
	// column.
	Fields []string
	// NextFreeSlots, when Fields hold nextFreeSlot, reads each doctor's
	// next free slot in the page's statement.
	NextFreeSlots NextFreeSlots
}

// NextFreeSlots adds the doctors' next free slots to the page's
// statement and hands them to the response's nextFreeSlot fields
// (agenda.Service).
type NextFreeSlots interface {
	WithNextFreeSlot(*sql.Selector)
	PrimeNextFreeSlots(context.Context, []*ent.Doctor) error
}

// Doctors runs the search. By default, with a point it orders by
// distance then id; without, by id. OrderRating orders best rated first.
func Doctors(ctx context.Context, client *ent.Client, a DoctorArgs) (*ent.DoctorConnection, error) {
	first, err := a.validate()
	if err != nil {
		return nil, err
	}
	// Only doctors whose CRM the clinic has checked are listed. Nearly
	// every doctor is, so the nearest-first scan of the location index
	// stays the plan and skips the few others as it reads.
	preds := []predicate.Doctor{doctor.VerificationEQ(doctor.VerificationVERIFIED)}
	if a.SpecialtyCode != nil {
		preds = append(preds, doctor.SpecialtyCode(*a.SpecialtyCode))
	}
	legacyText := false
	if a.Specialty != nil {
		s, err := a.Catalogue.ByName(ctx, *a.Specialty)
		if err != nil {
			return nil, err
		}
		if s != nil {
			preds = append(preds, doctor.SpecialtyCode(s.Code))
		} else {
			// A text the catalogue does not know is matched exactly
			// against the doctors whose own text it named nothing either.
			legacyText = true
			preds = append(preds, doctor.SpecialtyCodeIsNil(), doctor.Specialty(*a.Specialty))
		}
	}
	if a.genericPlans(legacyText) {
		ctx = db.GenericPlans(ctx)
	}
	if a.MinRating != nil {
		preds = append(preds, doctor.RatingGTE(*a.MinRating))
	}
	filters, err := a.filterPreds()
	if err != nil {
		return nil, err
	}
	preds = append(preds, filters...)
	q := client.Doctor.Query().Where(preds...)
	withSlots := a.NextFreeSlots != nil && slices.Contains(a.Fields, "nextFreeSlot")
	if withSlots {
		q.Modify(a.NextFreeSlots.WithNextFreeSlot)
	}
	var conn *ent.DoctorConnection
	if a.OrderBy != nil && *a.OrderBy == OrderRating {
		if err = scalar.Expect(a.After, scalar.KindRating); err != nil {
			return nil, err
		}
		conn, err = byRating(ctx, client, q, preds, a, first)
	} else if a.OrderBy != nil && *a.OrderBy == OrderNextFreeSlot {
		if err = scalar.Expect(a.After, scalar.KindTime); err != nil {
			return nil, err
		}
		conn, err = byNextFreeSlot(ctx, client, q, preds, a, first)
	} else if a.Near == nil {
		if err = scalar.Expect(a.After, scalar.KindID); err != nil {
			return nil, err
		}
		conn, err = byID(ctx, client, q, preds, a, first)
	} else {
		if err = scalar.Expect(a.After, scalar.KindFloat); err != nil {
			return nil, err
		}
		conn, err = nearest(ctx, client, q, preds, a, first)
	}
	if err != nil || !withSlots {
		return conn, err
	}
	nodes := make([]*ent.Doctor, len(conn.Edges))
	for i, e := range conn.Edges {
		nodes[i] = e.Node
	}
	return conn, a.NextFreeSlots.PrimeNextFreeSlots(ctx, nodes)
}

// byID pages through the doctors by id.
func byID(ctx context.Context, client *ent.Client, q *ent.DoctorQuery, preds []predicate.Doctor, a DoctorArgs, first int) (*ent.DoctorConnection, error) {
	total, err := totalCount(ctx, client, preds, a.CountTotal)
	if err != nil {
		return nil, err
	}
	conn := &ent.DoctorConnection{TotalCount: total}
	if a.After != nil {
		q.Where(doctor.IDGT(a.After.ID))
	}
	nodes, err := q.Select(columnsFor(a.Fields)...).Order(doctor.ByID()).Limit(first + 1).All(ctx)
	if err != nil {
		return nil, err
	}
	fillPage(conn, nodes, first, a.After, func(_ int, n *ent.Doctor) scalar.Cursor { return scalar.Cursor{ID: n.ID} })
	return conn, nil
}

// fieldColumns are the columns each Doctor field reads. The fields
// listed with none read the id, or what the search selects itself (the
// distance); a field missing here reads every public column, so a new
// field never finds its column empty.
var fieldColumns = map[string][]string{
	"id": nil, "__typename": nil, "distanceKm": nil, "slots": nil, "nextFreeSlot": nil,
	"createdAt":     {doctor.FieldCreatedAt},
	"name":          {doctor.FieldName},
	"crm":           {doctor.FieldCrmNumber, doctor.FieldCrmState},
	"specialty":     {doctor.FieldSpecialty, doctor.FieldSpecialtyCode},
	"specialtyInfo": {doctor.FieldSpecialtyCode},
	"priceCents":    {doctor.FieldPriceCents},
	"location":      {doctor.FieldLocation},
	"timezone":      {doctor.FieldTimezone},
	"rating":        {doctor.FieldRating, doctor.FieldRatingCount},
	"ratingCount":   {doctor.FieldRatingCount},
}

// columnsFor are the columns the fields read, the id always first.
func columnsFor(fields []string) []string {
	if fields == nil {
		return publicColumns
	}
	cols := []string{doctor.FieldID}
	for _, f := range fields {
		cs, ok := fieldColumns[f]
		if !ok {
			return publicColumns
		}
		for _, c := range cs {
			if !slices.Contains(cols, c) {
				cols = append(cols, c)
			}
		}
	}
	return cols
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
	if a.OrderBy != nil {
		if o := *a.OrderBy; !o.valid() {
			return 0, gqlerr.BadInput("orderBy", "unknown order")
		} else if o == OrderDistance && a.Near == nil {
			return 0, gqlerr.BadInput("orderBy", "ordering by distance needs near")
		}
	}
	if a.MinRating != nil {
		if r := *a.MinRating; math.IsNaN(r) || r < 0 || r > 5 {
			return 0, gqlerr.BadInput("minRating", "minRating must be between 0 and 5")
		}
	}
	return first, nil
}
