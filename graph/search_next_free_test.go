package graph_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
)

const soonestSearchOp = `query($near: GeoPointInput, $km: Float, $first: Int, $after: Cursor) {
  doctors(near: $near, withinKm: $km, orderBy: NEXT_FREE_SLOT, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id name nextFreeSlot { startsAt } } }
  }
}`

// soonestNames pages through the NEXT_FREE_SLOT order first at a time.
func soonestNames(t *testing.T, env *apptest.Env, vars map[string]any, first int) (names []string, total int) {
	t.Helper()
	seen := map[string]bool{}
	var after any
	var prev time.Time
	for pages := 0; ; pages++ {
		if pages > 50 {
			t.Fatal("pagination does not end")
		}
		v := map[string]any{"first": first, "after": after}
		for k, x := range vars {
			v[k] = x
		}
		var p struct {
			Doctors struct {
				TotalCount int
				PageInfo   struct {
					HasNextPage bool
					EndCursor   *string
				}
				Edges []struct {
					Node struct {
						ID, Name     string
						NextFreeSlot *struct{ StartsAt time.Time }
					}
				}
			}
		}
		env.Do("", soonestSearchOp, v).Decode(t, &p)
		if pages == 0 {
			total = p.Doctors.TotalCount
		}
		for _, e := range p.Doctors.Edges {
			if seen[e.Node.ID] {
				t.Fatalf("%s repeated on page %d", e.Node.Name, pages)
			}
			seen[e.Node.ID] = true
			if e.Node.NextFreeSlot == nil || e.Node.NextFreeSlot.StartsAt.Before(prev) {
				t.Fatalf("%s: next free slot missing or out of order", e.Node.Name)
			}
			prev = e.Node.NextFreeSlot.StartsAt
			names = append(names, e.Node.Name)
		}
		if !p.Doctors.PageInfo.HasNextPage {
			return names, total
		}
		after = *p.Doctors.PageInfo.EndCursor
	}
}

func TestSearchByNextFreeSlot(t *testing.T) {
	env := apptest.New(t)
	pat, _, _ := env.Patient("Booker")
	// Booked slots do not count; a doctor with none free is not listed.
	early, _ := env.Doctor("Booked Early", "Urology", -23.55, -46.63)
	book(t, env, pat, createSlot(t, env, early, tomorrowAt(7), 30))
	createSlot(t, env, early, tomorrowAt(11), 30)
	late, _ := env.Doctor("Late", "Urology", -23.56, -46.63)
	createSlot(t, env, late, tomorrowAt(10), 30)
	createSlot(t, env, late, tomorrowAt(12), 30)
	soon, _ := env.Doctor("Soon", "Urology", -23.57, -46.63)
	createSlot(t, env, soon, tomorrowAt(8), 30)
	full, _ := env.Doctor("Full", "Urology", -23.58, -46.63)
	book(t, env, pat, createSlot(t, env, full, tomorrowAt(8), 30))
	env.Doctor("Empty", "Urology", -23.59, -46.63)
	rio, _ := env.Doctor("Rio", "Urology", -22.90, -43.20)
	createSlot(t, env, rio, tomorrowAt(9), 30)
	// Ties at one time: ordered by id across pages.
	for i := 0; i < 5; i++ {
		d, _ := env.Doctor(fmt.Sprintf("Tie %d", i), "Urology", -23.55, -46.64)
		createSlot(t, env, d, tomorrowAt(13), 30)
	}
	want := []string{"Soon", "Rio", "Late", "Booked Early", "Tie 0", "Tie 1", "Tie 2", "Tie 3", "Tie 4"}
	for _, first := range []int{1, 2, 20} {
		got, total := soonestNames(t, env, nil, first)
		if fmt.Sprint(got) != fmt.Sprint(want) || total != len(want) {
			t.Fatalf("first %d: got %q (total %d), want %q", first, got, total, want)
		}
	}
	got, total := soonestNames(t, env, map[string]any{"near": saoPaulo, "km": 50.0}, 3)
	if w := append([]string{"Soon"}, want[2:]...); fmt.Sprint(got) != fmt.Sprint(w) || total != len(w) {
		t.Fatalf("within 50 km: got %q (total %d), want %q", got, total, w)
	}
	// A rating cursor is another list's.
	var p struct {
		Doctors struct{ PageInfo struct{ EndCursor string } }
	}
	env.Do("", `{ doctors(orderBy: RATING, first: 1) { pageInfo { endCursor } } }`, nil).Decode(t, &p)
	if r := env.Do("", soonestSearchOp, map[string]any{"after": p.Doctors.PageInfo.EndCursor}); r.Code() != "BAD_USER_INPUT" || r.Ext("field") != "after" {
		t.Fatalf("rating cursor in the next-free-slot order: %q %q", r.Code(), r.Ext("field"))
	}
}
