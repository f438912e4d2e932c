package graph

import (
	"entgo.io/contrib/entgql"

	"time"

	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/recordfile"
	"github.com/healthmed/healthmed/graph/generated"
	"github.com/healthmed/healthmed/internal/agenda"
	"github.com/healthmed/healthmed/internal/geo"
	"github.com/healthmed/healthmed/internal/profile"
	"github.com/healthmed/healthmed/internal/search"
)

// Default page sizes and list estimates the complexity limit assumes, so a
// list costs what it can return, not one field.
const (
	defaultPage       = 20
	slotsPerDoctor    = 50
	maxListComplexity = 1 << 20
)

// Complexity multiplies list fields by their page size.
func Complexity() generated.ComplexityRoot {
	var c generated.ComplexityRoot
	c.Query.Doctors = func(child int, _ *geo.Point, _ *float64, _, _ *string, _ *float64, _, _, _ *string, _ *profile.ConsultationMode, _, _ *int, _ *time.Time, _ *search.Order, first *int, _ *entgql.Cursor[int]) int {
		return list(child, page(first))
	}
	c.Query.Appointments = func(child int, _ []appointment.Status, _, _ *time.Time, first *int, _ *entgql.Cursor[int]) int {
		return list(child, page(first))
	}
	c.Query.RecordFiles = func(child int, first *int, _ *entgql.Cursor[int], _ *recordfile.Category, _ *string) int {
		return list(child, page(first))
	}
	c.Query.Nodes = func(child int, ids []int) int { return list(child, len(ids)) }
	c.Query.Notifications = func(child int, first *int, _ *entgql.Cursor[int]) int { return list(child, page(first)) }
	c.Doctor.Reviews = func(child int, first *int, _ *entgql.Cursor[int]) int { return list(child, page(first)) }
	c.Doctor.Slots = func(child int, _, _ *time.Time, _ *bool) int { return list(child, slotsPerDoctor) }
	c.Mutation.CreateSlots = func(child int, in []*agenda.SlotInput) int { return list(child, len(in)) }
	return c
}

func page(first *int) int {
	if first != nil && *first >= 0 {
		return *first
	}
	return defaultPage
}

func list(child, n int) int {
	if n > 0 && child > maxListComplexity/n {
		return maxListComplexity
	}
	return 1 + child*n
}
