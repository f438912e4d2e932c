package graph_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
)

const filterSearchOp = `query($near: GeoPointInput, $km: Float, $sp: String, $min: Float, $name: String, $city: String,
  $state: String, $mode: ConsultationMode, $first: Int, $after: Cursor) {
  doctors(near: $near, withinKm: $km, specialty: $sp, minRating: $min, name: $name, city: $city,
    state: $state, mode: $mode, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id name } }
  }
}`

const setProfileOp = `mutation($in: DoctorProfileInput!) { updateDoctorProfile(input: $in) { id } }`

// placedDoctor registers a verified doctor and sets the city, state and
// consultation modes of their profile (none: the doctor never said).
func placedDoctor(t *testing.T, env *apptest.Env, name, specialty string, lat, lng float64, city, state string, modes ...string) string {
	t.Helper()
	token, _ := env.Doctor(name, specialty, lat, lng)
	in := map[string]any{"address": map[string]any{"street": "Rua A", "number": "1", "district": "Centro",
		"city": city, "state": state, "postalCode": "01310-100"}}
	if modes != nil {
		in["consultationModes"] = modes
	}
	env.Do(token, setProfileOp, map[string]any{"in": in}).Decode(t, &map[string]any{})
	return token
}

func TestSearchByNameCityStateAndMode(t *testing.T) {
	env := apptest.New(t)
	ana := placedDoctor(t, env, "Ána Beatriz Souza", "Cardiology", -23.55, -46.63, "São Paulo", "SP", "VIDEO", "IN_PERSON")
	placedDoctor(t, env, "Anabela Lima", "Dermatology", -23.56, -46.64, "Sao Paulo", "sp", "IN_PERSON")
	placedDoctor(t, env, "Bruno Anastácio", "Cardiology", -22.90, -43.20, "Rio de Janeiro", "RJ")
	placedDoctor(t, env, "André_% Costa", "Cardiology", -23.0, -45.9, "São José dos Campos", "SP", "VIDEO")
	pendingToken, _ := env.PendingDoctor("Ana Pendente", "Cardiology", -23.55, -46.63)
	env.Do(pendingToken, setProfileOp, map[string]any{"in": map[string]any{"address": map[string]any{"street": "Rua A",
		"number": "1", "district": "Centro", "city": "São Paulo", "state": "SP", "postalCode": "01310-100"}}}).Decode(t, &map[string]any{})
	setRating(t, env, ana, 4.5)

	cases := []struct {
		name string
		vars map[string]any
		want []string
	}{
		{"name prefix, accents and case aside", map[string]any{"name": "ana"}, []string{"Ána Beatriz Souza", "Anabela Lima"}},
		{"name prefix in the middle matches nothing", map[string]any{"name": "beatriz"}, nil},
		{"longer prefix", map[string]any{"name": "  ANA  B"}, []string{"Ána Beatriz Souza"}},
		{"wildcards match themselves", map[string]any{"name": "andré_%"}, []string{"André_% Costa"}},
		{"underscore is no wildcard", map[string]any{"name": "andr_"}, nil},
		{"city, accents and case aside", map[string]any{"city": "SAO PAULO"}, []string{"Ána Beatriz Souza", "Anabela Lima"}},
		{"city is the whole name", map[string]any{"city": "São"}, nil},
		{"state", map[string]any{"state": "sp"}, []string{"Ána Beatriz Souza", "Anabela Lima", "André_% Costa"}},
		{"state and specialty", map[string]any{"state": "SP", "sp": "cardiologia"}, []string{"Ána Beatriz Souza", "André_% Costa"}},
		{"in person", map[string]any{"mode": "IN_PERSON"}, []string{"Ána Beatriz Souza", "Anabela Lima"}},
		{"video, with the doctors who never said", map[string]any{"mode": "VIDEO"}, []string{"Ána Beatriz Souza", "Bruno Anastácio", "André_% Costa"}},
		{"name, city, mode and rating", map[string]any{"name": "an", "city": "sao paulo", "mode": "IN_PERSON", "min": 4.0}, []string{"Ána Beatriz Souza"}},
		{"near with city", map[string]any{"near": saoPaulo, "km": 500.0, "city": "rio de janeiro"}, []string{"Bruno Anastácio"}},
		{"near with state and mode", map[string]any{"near": saoPaulo, "km": 100.0, "state": "SP", "mode": "VIDEO"}, []string{"Ána Beatriz Souza", "André_% Costa"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, total := namesPaged(t, env, filterSearchOp, tc.vars)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || total != len(tc.want) {
				t.Fatalf("got %q (total %d), want %q", got, total, tc.want)
			}
		})
	}
}

func TestSearchFiltersRejectBadValues(t *testing.T) {
	env := apptest.New(t)
	long := fmt.Sprintf("%0201d", 0)
	cases := []struct {
		name  string
		vars  map[string]any
		field string
	}{
		{"blank name", map[string]any{"name": "  "}, "name"},
		{"name too long", map[string]any{"name": long}, "name"},
		{"blank city", map[string]any{"city": ""}, "city"},
		{"city too long", map[string]any{"city": long}, "city"},
		{"not a federative unit", map[string]any{"state": "XX"}, "state"},
		{"state spelled out", map[string]any{"state": "São Paulo"}, "state"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := env.Do("", filterSearchOp, tc.vars)
			if r.Code() != "BAD_USER_INPUT" || r.Ext("field") != tc.field {
				t.Fatalf("code %q field %q, want BAD_USER_INPUT %q (%+v)", r.Code(), r.Ext("field"), tc.field, r.Errors)
			}
		})
	}
	if r := env.Do("", filterSearchOp, map[string]any{"mode": "PHONE"}); len(r.Errors) == 0 {
		t.Fatal("an unknown mode was accepted")
	}
}

const priceSearchOp = `query($min: Int, $max: Int, $before: Time, $first: Int, $after: Cursor) {
  doctors(specialty: "Cardiology", minPriceCents: $min, maxPriceCents: $max, freeBefore: $before, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { name priceCents } }
  }
}`

func TestSearchByPriceRangeAndFreeSlotBefore(t *testing.T) {
	env := apptest.New(t)
	base := time.Now().UTC().Truncate(time.Hour)
	doctor := func(name string, price int, slotIn time.Duration) (token, slot string) {
		token, _ = env.Doctor(name, "Cardiology", -23.55, -46.63)
		env.Do(token, setProfileOp, map[string]any{"in": map[string]any{"priceCents": price}}).Decode(t, &map[string]any{})
		at := base.Add(slotIn)
		var out struct{ CreateSlots []struct{ ID string } }
		env.Do(token, `mutation($in: [SlotInput!]!) { createSlots(input: $in) { id } }`, map[string]any{"in": []any{
			map[string]any{"startsAt": at.Format(time.RFC3339), "endsAt": at.Add(30 * time.Minute).Format(time.RFC3339)}}}).Decode(t, &out)
		return token, out.CreateSlots[0].ID
	}
	doctor("Dra. Barata", 15000, 2*time.Hour)
	doctor("Dr. Medio", 25000, 30*time.Hour)
	_, taken := doctor("Dra. Cara", 40000, 3*time.Hour)
	patient, _, _ := env.Patient("Paciente Preço")
	env.Do(patient, `mutation($s: ID!) { bookAppointment(slotId: $s) { id } }`, map[string]any{"s": taken}).Decode(t, &map[string]any{})

	at := func(d time.Duration) string { return base.Add(d).Format(time.RFC3339) }
	for _, tc := range []struct {
		name string
		vars map[string]any
		want []string
	}{
		{"at least", map[string]any{"min": 20000}, []string{"Dr. Medio", "Dra. Cara"}},
		{"at most", map[string]any{"max": 20000}, []string{"Dra. Barata"}},
		{"between, bounds included", map[string]any{"min": 15000, "max": 25000}, []string{"Dra. Barata", "Dr. Medio"}},
		{"a free slot soon (a booked one is not free)", map[string]any{"before": at(5 * time.Hour)}, []string{"Dra. Barata"}},
		{"a free slot within two days", map[string]any{"before": at(48 * time.Hour)}, []string{"Dra. Barata", "Dr. Medio"}},
		{"free soon and cheap", map[string]any{"before": at(48 * time.Hour), "min": 20000}, []string{"Dr. Medio"}},
		{"free before now", map[string]any{"before": at(-time.Hour)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, total := namesPaged(t, env, priceSearchOp, tc.vars)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || total != len(tc.want) {
				t.Fatalf("got %q (total %d), want %q", got, total, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name  string
		vars  map[string]any
		field string
	}{
		{"negative", map[string]any{"min": -1}, "minPriceCents"},
		{"absurd", map[string]any{"max": 1 << 40}, "maxPriceCents"},
		{"min above max", map[string]any{"min": 30000, "max": 20000}, "maxPriceCents"},
	} {
		if r := env.Do("", priceSearchOp, tc.vars); r.Code() != "BAD_USER_INPUT" || r.Ext("field") != tc.field {
			t.Errorf("%s: code %q field %q, want BAD_USER_INPUT %q", tc.name, r.Code(), r.Ext("field"), tc.field)
		}
	}
}

// namesPaged runs a doctors search one doctor a page (the filters must
// hold across pages too) and returns the names in order and the first
// page's totalCount.
func namesPaged(t *testing.T, env *apptest.Env, op string, filters map[string]any) (names []string, total int) {
	t.Helper()
	total = -1
	var after any
	for pages := 0; pages < 10; pages++ {
		vars := map[string]any{"first": 1, "after": after}
		for k, v := range filters {
			vars[k] = v
		}
		var p struct {
			Doctors struct {
				TotalCount int
				PageInfo   struct {
					HasNextPage bool
					EndCursor   *string
				}
				Edges []struct{ Node struct{ Name string } }
			}
		}
		env.Do("", op, vars).Decode(t, &p)
		if total < 0 {
			total = p.Doctors.TotalCount
		}
		for _, e := range p.Doctors.Edges {
			names = append(names, e.Node.Name)
		}
		if !p.Doctors.PageInfo.HasNextPage {
			break
		}
		after = *p.Doctors.PageInfo.EndCursor
	}
	return names, total
}
