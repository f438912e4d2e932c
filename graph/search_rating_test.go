package graph_test

import (
	"fmt"
	"testing"

	"github.com/healthmed/healthmed/internal/apptest"
)

const ratedSearchOp = `query($near: GeoPointInput, $km: Float, $city: String, $order: DoctorOrder, $first: Int, $after: Cursor) {
  doctors(near: $near, withinKm: $km, city: $city, orderBy: $order, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id name rating ratingCount distanceKm } }
  }
}`

type ratedPage struct {
	Doctors struct {
		TotalCount int
		PageInfo   struct {
			HasNextPage bool
			EndCursor   *string
		}
		Edges []struct {
			Node struct {
				ID, Name    string
				Rating      *float64
				RatingCount int
				DistanceKm  *float64
			}
		}
	}
}

// rate gives the doctor count ratings averaging avg.
func rate(t *testing.T, env *apptest.Env, token string, avg float64, count int) {
	t.Helper()
	var n int
	fmt.Sscan(viewerID(t, env, token), &n)
	if err := env.DB.Client.Doctor.UpdateOneID(n).SetRating(avg).SetRatingCount(count).Exec(sysCtx()); err != nil {
		t.Fatal(err)
	}
}

// ratedNames pages through the search one page of size first at a time.
func ratedNames(t *testing.T, env *apptest.Env, vars map[string]any, first int) (names []string, total int) {
	t.Helper()
	seen := map[string]bool{}
	var after any
	for pages := 0; ; pages++ {
		if pages > 50 {
			t.Fatal("pagination does not end")
		}
		v := map[string]any{"order": "RATING", "first": first, "after": after}
		for k, x := range vars {
			v[k] = x
		}
		var p ratedPage
		env.Do("", ratedSearchOp, v).Decode(t, &p)
		if pages == 0 {
			total = p.Doctors.TotalCount
		}
		for _, e := range p.Doctors.Edges {
			if seen[e.Node.ID] {
				t.Fatalf("%s repeated on page %d", e.Node.Name, pages)
			}
			seen[e.Node.ID] = true
			names = append(names, e.Node.Name)
		}
		if !p.Doctors.PageInfo.HasNextPage {
			return names, total
		}
		after = *p.Doctors.PageInfo.EndCursor
	}
}

func TestSearchByRatingNeedsSeveralRatingsToLead(t *testing.T) {
	env := apptest.New(t)
	for _, d := range []struct {
		name  string
		avg   float64
		count int
		lat   float64
	}{
		{"One Five", 5, 1, -23.55},             // (5+9)/4 = 3.5
		{"Ten Four-and-half", 4.5, 10, -23.56}, // (45+9)/13 ≈ 4.15
		{"Forty Four", 4, 40, -23.57},          // (160+9)/43 ≈ 3.93
		{"Unrated", 0, 0, -23.58},              // 3
		{"Ten Two", 2, 10, -23.59},             // (20+9)/13 ≈ 2.23
		{"Far Five", 5, 50, -22.90},            // ≈ 4.89, in Rio
	} {
		token, _ := env.Doctor(d.name, "Cardiology", d.lat, -46.63)
		if d.count > 0 {
			rate(t, env, token, d.avg, d.count)
		}
	}
	want := []string{"Far Five", "Ten Four-and-half", "Forty Four", "One Five", "Unrated", "Ten Two"}
	for _, first := range []int{1, 2, 20} {
		got, total := ratedNames(t, env, nil, first)
		if fmt.Sprint(got) != fmt.Sprint(want) || total != len(want) {
			t.Fatalf("first %d: got %q (total %d), want %q", first, got, total, want)
		}
	}
	// A point shows the distance; a radius filters, the order stays.
	var p ratedPage
	env.Do("", ratedSearchOp, map[string]any{"order": "RATING", "near": saoPaulo, "km": 50.0}).Decode(t, &p)
	var got []string
	for _, e := range p.Doctors.Edges {
		if e.Node.DistanceKm == nil {
			t.Fatalf("%s has no distance", e.Node.Name)
		}
		got = append(got, e.Node.Name)
	}
	if fmt.Sprint(got) != fmt.Sprint(want[1:]) || p.Doctors.TotalCount != 5 {
		t.Fatalf("within 50 km: got %q (total %d)", got, p.Doctors.TotalCount)
	}
}

func TestSearchByRatingPagesHaveNoDuplicatesOrGaps(t *testing.T) {
	env := apptest.New(t)
	const n = 23
	// Few distinct scores, so most pages end inside a run of ties.
	for i := 0; i < n; i++ {
		token, _ := env.Doctor(fmt.Sprintf("Dr. %02d", i), "Pediatrics", -23.55+float64(i)/1000, -46.63)
		if i%3 != 0 {
			rate(t, env, token, float64(3+i%3), 5)
		}
		if i%5 == 0 {
			env.Doctor(fmt.Sprintf("Elsewhere %02d", i), "Pediatrics", -23.55, -46.63)
		}
	}
	all, _ := ratedNames(t, env, nil, 100)
	for _, first := range []int{1, 4, 7} {
		got, _ := ratedNames(t, env, nil, first)
		if fmt.Sprint(got) != fmt.Sprint(all) {
			t.Fatalf("pages of %d: %q, want %q", first, got, all)
		}
	}
	if len(all) != n+5 {
		t.Fatalf("%d doctors listed, want %d", len(all), n+5)
	}
}

func TestSearchOrderRefusals(t *testing.T) {
	env := apptest.New(t)
	env.Doctor("Dr. A", "Pediatrics", -23.55, -46.63)
	env.Doctor("Dr. B", "Pediatrics", -23.56, -46.63)
	if r := env.Do("", ratedSearchOp, map[string]any{"order": "DISTANCE"}); r.Code() != "BAD_USER_INPUT" || r.Ext("field") != "orderBy" {
		t.Fatalf("distance without a point: %q %q", r.Code(), r.Ext("field"))
	}
	// A cursor of the distance order is refused by the rating order and
	// the other way round.
	var p ratedPage
	env.Do("", ratedSearchOp, map[string]any{"near": saoPaulo, "first": 1}).Decode(t, &p)
	r := env.Do("", ratedSearchOp, map[string]any{"order": "RATING", "after": *p.Doctors.PageInfo.EndCursor})
	if r.Code() != "BAD_USER_INPUT" || r.Ext("field") != "after" {
		t.Fatalf("distance cursor in the rating order: %q %q", r.Code(), r.Ext("field"))
	}
	env.Do("", ratedSearchOp, map[string]any{"order": "RATING", "first": 1}).Decode(t, &p)
	r = env.Do("", ratedSearchOp, map[string]any{"near": saoPaulo, "after": *p.Doctors.PageInfo.EndCursor})
	if r.Code() != "BAD_USER_INPUT" || r.Ext("field") != "after" {
		t.Fatalf("rating cursor in the distance order: %q %q", r.Code(), r.Ext("field"))
	}
}
