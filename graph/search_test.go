package graph_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/viewer"
)

const searchOp = `query($near: GeoPointInput, $km: Float, $sp: String, $min: Float, $first: Int, $after: Cursor) {
  doctors(near: $near, withinKm: $km, specialty: $sp, minRating: $min, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id name specialty rating distanceKm } }
  }
}`

type searchPage struct {
	Doctors struct {
		TotalCount int
		PageInfo   struct {
			HasNextPage bool
			EndCursor   *string
		}
		Edges []struct {
			Node struct {
				ID, Name, Specialty string
				Rating              *float64
				DistanceKm          *float64
			}
		}
	}
}

var saoPaulo = map[string]any{"lat": -23.5505, "lng": -46.6333}

// project returns the point at metres from São Paulo's centre along the
// azimuth, computed by PostGIS itself so the boundary is exact.
func project(t *testing.T, env *apptest.Env, metres, azimuthDeg float64) (lat, lng float64) {
	t.Helper()
	err := env.DB.SQL.QueryRow(`SELECT ST_Y(p::geometry), ST_X(p::geometry) FROM
		ST_Project(ST_GeogFromText('SRID=4326;POINT(-46.6333 -23.5505)'), $1, radians($2)) AS p`,
		metres, azimuthDeg).Scan(&lat, &lng)
	if err != nil {
		t.Fatal(err)
	}
	return lat, lng
}

func setRating(t *testing.T, env *apptest.Env, token string, rating float64) {
	t.Helper()
	id := viewerID(t, env, token)
	var n int
	fmt.Sscan(id, &n)
	if err := env.DB.Client.Doctor.UpdateOneID(n).SetRating(rating).SetRatingCount(10).
		Exec(viewer.SystemContext(context.Background())); err != nil {
		t.Fatal(err)
	}
}

func TestSearchDistanceBoundarySpecialtyAndRating(t *testing.T) {
	env := apptest.New(t)
	lat, lng := project(t, env, 9900, 90)
	in, _ := env.Doctor("Dr. In", "Cardiology", lat, lng)
	lat, lng = project(t, env, 10100, 90)
	env.Doctor("Dr. Out", "Cardiology", lat, lng)
	lat, lng = project(t, env, 2000, 0)
	near, _ := env.Doctor("Dr. Near", "Cardiology", lat, lng)
	lat, lng = project(t, env, 3000, 180)
	env.Doctor("Dr. Skin", "Dermatology", lat, lng)
	setRating(t, env, in, 4.8)
	setRating(t, env, near, 3.9)

	cases := []struct {
		name string
		vars map[string]any
		want []string
	}{
		{"within 10 km, nearest first", map[string]any{"near": saoPaulo, "km": 10.0}, []string{"Dr. Near", "Dr. Skin", "Dr. In"}},
		{"specialty", map[string]any{"near": saoPaulo, "km": 10.0, "sp": "Cardiology"}, []string{"Dr. Near", "Dr. In"}},
		{"specialty, in Portuguese and any case", map[string]any{"near": saoPaulo, "km": 10.0, "sp": "CARDIOLOGIA"}, []string{"Dr. Near", "Dr. In"}},
		{"specialty the catalogue does not know", map[string]any{"near": saoPaulo, "km": 10.0, "sp": "Cardio"}, nil},
		{"minimum rating", map[string]any{"near": saoPaulo, "km": 10.0, "min": 4.0}, []string{"Dr. In"}},
		{"wider radius", map[string]any{"near": saoPaulo, "km": 10.2, "sp": "Cardiology"}, []string{"Dr. Near", "Dr. In", "Dr. Out"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p searchPage
			env.Do("", searchOp, tc.vars).Decode(t, &p)
			var got []string
			prev := -1.0
			for _, e := range p.Doctors.Edges {
				got = append(got, e.Node.Name)
				if e.Node.DistanceKm == nil || *e.Node.DistanceKm < prev {
					t.Fatalf("distance missing or out of order: %+v", p.Doctors.Edges)
				}
				prev = *e.Node.DistanceKm
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || p.Doctors.TotalCount != len(tc.want) {
				t.Fatalf("got %v (total %d), want %v", got, p.Doctors.TotalCount, tc.want)
			}
		})
	}
	// The reported distance is PostGIS's on the mean sphere (what its
	// nearest-neighbour order uses), rounded to 0.1 km.
	var want float64
	if err := env.DB.SQL.QueryRow(`SELECT ST_Distance(ST_Project(ST_GeogFromText('SRID=4326;POINT(-46.6333 -23.5505)'),
		9900, radians(90)), ST_GeogFromText('SRID=4326;POINT(-46.6333 -23.5505)'), false) / 1000`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	var p searchPage
	env.Do("", searchOp, map[string]any{"near": saoPaulo, "km": 10.0, "min": 4.0}).Decode(t, &p)
	if d := *p.Doctors.Edges[0].Node.DistanceKm; d != math.Round(want*10)/10 || math.Abs(want-9.9) > 0.05 {
		t.Fatalf("distanceKm = %v, want %v rounded to 0.1 (9.9 on the ellipsoid)", d, want)
	}
}

func TestSearchRejectsBadArguments(t *testing.T) {
	env := apptest.New(t)
	cases := []struct {
		name  string
		vars  map[string]any
		field string
	}{
		{"radius over 500 km", map[string]any{"near": saoPaulo, "km": 500.1}, "withinKm"},
		{"radius zero", map[string]any{"near": saoPaulo, "km": 0.0}, "withinKm"},
		{"radius without point", map[string]any{"km": 10.0}, "withinKm"},
		{"latitude over 90", map[string]any{"near": map[string]any{"lat": 90.5, "lng": 0.0}, "km": 10.0}, "near"},
		{"longitude under -180", map[string]any{"near": map[string]any{"lat": 0.0, "lng": -181.0}}, "near"},
		{"rating over 5", map[string]any{"min": 5.5}, "minRating"},
		{"page too large", map[string]any{"first": 101}, "first"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := env.Do("", searchOp, tc.vars)
			if r.Code() != "BAD_USER_INPUT" || r.Ext("field") != tc.field {
				t.Fatalf("code %q field %q, want BAD_USER_INPUT %q (%+v)", r.Code(), r.Ext("field"), tc.field, r.Errors)
			}
		})
	}
}

func TestSearchPagesHaveNoDuplicatesOrGaps(t *testing.T) {
	env := apptest.New(t)
	const n = 23
	// Pairs of doctors at the same distance test the id tie-break.
	for i := 0; i < n; i++ {
		lat, lng := project(t, env, float64(500+(i/2)*300), float64(i*37%360))
		env.Doctor(fmt.Sprintf("Dr. %02d", i), "Pediatrics", lat, lng)
	}
	for _, near := range []map[string]any{saoPaulo, nil} {
		seen := map[string]bool{}
		var after any
		pages := 0
		for {
			vars := map[string]any{"first": 5, "after": after}
			if near != nil {
				vars["near"], vars["km"] = near, 50.0
			}
			var p searchPage
			env.Do("", searchOp, vars).Decode(t, &p)
			pages++
			for _, e := range p.Doctors.Edges {
				if seen[e.Node.ID] {
					t.Fatalf("doctor %s repeated on page %d", e.Node.Name, pages)
				}
				seen[e.Node.ID] = true
			}
			if !p.Doctors.PageInfo.HasNextPage {
				break
			}
			after = *p.Doctors.PageInfo.EndCursor
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
		}
		if len(seen) != n || pages != 5 {
			t.Fatalf("near=%v: saw %d doctors in %d pages, want %d in 5", near != nil, len(seen), pages, n)
		}
	}
}

func TestDoctorAgendaFieldsInSearch(t *testing.T) {
	env := apptest.New(t)
	doc, _ := env.Doctor("Dr. Slots", "Urology", -23.55, -46.63)
	env.Doctor("Dr. Empty", "Urology", -23.56, -46.64)
	first := createSlot(t, env, doc, tomorrowAt(8), 30)
	createSlot(t, env, doc, tomorrowAt(9), 30)
	createSlot(t, env, doc, tomorrowAt(10), 30)
	pat, _, _ := env.Patient("Booker")
	book(t, env, pat, first)

	const q = `query($onlyFree: Boolean) { doctors(specialty: "Urology") { edges { node {
		name nextFreeSlot { startsAt } slots(onlyFree: $onlyFree) { startsAt free } } } } }`
	type page struct {
		Doctors struct {
			Edges []struct {
				Node struct {
					Name         string
					NextFreeSlot *struct{ StartsAt time.Time }
					Slots        []struct {
						StartsAt time.Time
						Free     bool
					}
				}
			}
		}
	}
	for _, onlyFree := range []bool{false, true} {
		var p page
		env.Do("", q, map[string]any{"onlyFree": onlyFree}).Decode(t, &p)
		if len(p.Doctors.Edges) != 2 {
			t.Fatalf("%d doctors", len(p.Doctors.Edges))
		}
		for _, e := range p.Doctors.Edges {
			n := e.Node
			switch n.Name {
			case "Dr. Empty":
				if n.NextFreeSlot != nil || len(n.Slots) != 0 {
					t.Fatalf("empty agenda shows %+v", n)
				}
			case "Dr. Slots":
				if n.NextFreeSlot == nil || !n.NextFreeSlot.StartsAt.Equal(tomorrowAt(9)) {
					t.Fatalf("nextFreeSlot = %+v, want the 09:00 slot (08:00 is booked)", n.NextFreeSlot)
				}
				want := 3
				if onlyFree {
					want = 2
				}
				if len(n.Slots) != want {
					t.Fatalf("onlyFree=%v: %d slots, want %d", onlyFree, len(n.Slots), want)
				}
				for _, s := range n.Slots {
					if s.Free == s.StartsAt.Equal(tomorrowAt(8)) {
						t.Fatalf("slot %v free=%v", s.StartsAt, s.Free)
					}
				}
			default:
				t.Fatalf("unexpected doctor %q", n.Name)
			}
		}
	}
}

// TestNextFreeSlotReadWithThePage checks the next free slot a search
// reads in its page's statement against the one the loader reads for a
// doctor reached another way (node), field by field and through the
// slot's own edge, by distance and by id.
func TestNextFreeSlotReadWithThePage(t *testing.T) {
	env := apptest.New(t)
	doc, _ := env.Doctor("Dr. Slots", "Urology", -23.55, -46.63)
	env.Doctor("Dr. Empty", "Urology", -23.56, -46.64)
	first := createSlot(t, env, doc, tomorrowAt(8), 30)
	createSlot(t, env, doc, tomorrowAt(9), 45)
	pat, _, _ := env.Patient("Booker")
	book(t, env, pat, first)

	const slot = `nextFreeSlot { id createdAt startsAt endsAt free doctor { id name } }`
	type next struct {
		ID, CreatedAt string
		StartsAt      time.Time
		EndsAt        time.Time
		Free          bool
		Doctor        struct{ ID, Name string }
	}
	var byNode struct {
		Node struct{ NextFreeSlot *next }
	}
	var docID string
	for _, vars := range []map[string]any{{}, {"near": map[string]any{"lat": -23.55, "lng": -46.63}, "km": 5.0}} {
		var p struct {
			Doctors struct {
				Edges []struct {
					Node struct {
						ID, Name     string
						NextFreeSlot *next
					}
				}
			}
		}
		env.Do("", `query($near: GeoPointInput, $km: Float) { doctors(specialty: "Urology", near: $near, withinKm: $km) {
			edges { node { id name `+slot+` } } } }`, vars).Decode(t, &p)
		if len(p.Doctors.Edges) != 2 {
			t.Fatalf("%v: %d doctors", vars, len(p.Doctors.Edges))
		}
		for _, e := range p.Doctors.Edges {
			if e.Node.Name == "Dr. Empty" {
				if e.Node.NextFreeSlot != nil {
					t.Fatalf("%v: an empty agenda has a next free slot: %+v", vars, e.Node.NextFreeSlot)
				}
				continue
			}
			if docID == "" {
				docID = e.Node.ID
				env.Do("", `query($id: ID!) { node(id: $id) { ... on Doctor { `+slot+` } } }`,
					map[string]any{"id": docID}).Decode(t, &byNode)
				if byNode.Node.NextFreeSlot == nil || !byNode.Node.NextFreeSlot.StartsAt.Equal(tomorrowAt(9)) {
					t.Fatalf("through node: %+v, want the 09:00 slot", byNode.Node.NextFreeSlot)
				}
			}
			got := e.Node.NextFreeSlot
			if got == nil || *got != *byNode.Node.NextFreeSlot || got.Doctor.Name != "Dr. Slots" || !got.Free ||
				!got.EndsAt.Equal(tomorrowAt(9).Add(45*time.Minute)) {
				t.Fatalf("%v: the page's next free slot %+v, through node %+v", vars, got, byNode.Node.NextFreeSlot)
			}
		}
	}
}

// TestSearchPagesAcrossTiesAtOneAddress pages through doctors of one
// clinic (one point, so exactly equal distances) with pages that end
// inside the clinic: every doctor once, in (distance, id) order.
func TestSearchPagesAcrossTiesAtOneAddress(t *testing.T) {
	env := apptest.New(t)
	lat, lng := project(t, env, 3000, 45)
	var want []string
	for i := 0; i < 7; i++ {
		env.Doctor(fmt.Sprintf("Dr. Clinic %d", i), "Neurology", lat, lng)
	}
	for i, m := range []float64{1000, 3000, 5000} {
		la, ln := project(t, env, m, 200)
		env.Doctor(fmt.Sprintf("Dr. Alone %d", i), "Neurology", la, ln)
	}
	// The expected order: by distance, equal distances by id.
	var all searchPage
	env.Do("", searchOp, map[string]any{"near": saoPaulo, "km": 20.0, "sp": "Neurology", "first": 100}).Decode(t, &all)
	if len(all.Doctors.Edges) != 10 {
		t.Fatalf("%d doctors, want 10", len(all.Doctors.Edges))
	}
	for i, e := range all.Doctors.Edges {
		want = append(want, e.Node.ID)
		if i == 0 {
			continue
		}
		prev := all.Doctors.Edges[i-1].Node
		if *prev.DistanceKm > *e.Node.DistanceKm ||
			(*prev.DistanceKm == *e.Node.DistanceKm && globalIDLess(t, e.Node.ID, prev.ID)) {
			t.Fatalf("not in (distance, id) order at %d: %+v then %+v", i, prev, e.Node)
		}
	}
	for _, size := range []int{1, 2, 3, 4, 6} {
		var got []string
		var after any
		for pages := 0; ; pages++ {
			if pages > 12 {
				t.Fatalf("first=%d: pagination does not end", size)
			}
			var p searchPage
			env.Do("", searchOp, map[string]any{"near": saoPaulo, "km": 20.0, "sp": "Neurology",
				"first": size, "after": after}).Decode(t, &p)
			for _, e := range p.Doctors.Edges {
				got = append(got, e.Node.ID)
			}
			if !p.Doctors.PageInfo.HasNextPage {
				break
			}
			after = *p.Doctors.PageInfo.EndCursor
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("first=%d: pages gave %v, want %v", size, got, want)
		}
	}
}

func globalIDLess(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y int
	if _, err := fmt.Sscan(a, &x); err != nil {
		t.Fatalf("id %q: %v", a, err)
	}
	if _, err := fmt.Sscan(b, &y); err != nil {
		t.Fatalf("id %q: %v", b, err)
	}
	return x < y
}
