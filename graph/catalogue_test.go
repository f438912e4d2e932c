package graph_test

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"testing"

	"github.com/healthmed/healthmed/ent/auditevent"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/geo"
)

const (
	specialtiesOp     = `{ specialties { code name nameEn } }`
	createSpecialtyOp = `mutation($in: CreateSpecialtyInput!) { createSpecialty(input: $in) { code name nameEn } }`
	unmatchedOp       = `{ unmatchedSpecialties { text doctors } }`
	setSpecialtyOp    = `mutation($c: String!) { setSpecialty(code: $c) { specialty specialtyInfo { code } } }`
	mySpecialtyOp     = `{ viewer { ... on Doctor { specialty specialtyInfo { code name nameEn } } } }`
)

type specialtyRow struct{ Code, Name, NameEn string }

// adminToken creates an admin straight in the database and mints a
// token for it.
func adminToken(t *testing.T, env *apptest.Env) (token string, id int) {
	t.Helper()
	n := apptest.CPF() // unique within the binary
	a, err := env.DB.Client.Admin.Create().SetName("Admin").SetEmail("admin" + n + "@clinic.test").
		SetPasswordHash("!unusable").Save(sysCtx())
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := env.App.Issuer.IssueSession(strconv.Itoa(a.ID), "admin", "admin-sign-in-"+n)
	if err != nil {
		t.Fatal(err)
	}
	return tok, a.ID
}

// legacyDoctor writes a doctor as a script or an import would, knowing
// only the free-text specialty.
func legacyDoctor(t *testing.T, env *apptest.Env, name, specialty string) int {
	t.Helper()
	n := apptest.CPF()
	d, err := env.DB.Client.Doctor.Create().SetName(name).SetEmail("legacy" + n + "@example.com").
		SetPasswordHash("!unusable").SetCrmNumber(n[:7]).SetCrmState("RJ").SetSpecialty(specialty).
		SetPriceCents(20000).SetLocation(geo.Point{Lat: -23.55, Lng: -46.63}).
		// Doctors of before the verification were verified by its migration.
		SetVerification(doctor.VerificationVERIFIED).Save(sysCtx())
	if err != nil {
		t.Fatal(err)
	}
	return d.ID
}

func TestSpecialtiesCatalogueIsTheCouncilsList(t *testing.T) {
	env := apptest.New(t)
	var out struct{ Specialties []specialtyRow }
	env.Do("", specialtiesOp, nil).Decode(t, &out)
	if len(out.Specialties) != 55 {
		t.Fatalf("%d specialties, want the council's 55", len(out.Specialties))
	}
	code := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	seen := map[string]bool{}
	for _, s := range out.Specialties {
		if !code.MatchString(s.Code) || seen[s.Code] || s.Name == "" || s.NameEn == "" {
			t.Fatalf("entry %+v (code repeated: %v)", s, seen[s.Code])
		}
		seen[s.Code] = true
	}
	if !sort.SliceIsSorted(out.Specialties, func(i, j int) bool { return out.Specialties[i].Name < out.Specialties[j].Name }) {
		t.Fatal("the catalogue is not in the order of its names")
	}
	for _, want := range []specialtyRow{
		{"cardiologia", "Cardiologia", "Cardiology"},
		{"clinica-medica", "Clínica Médica", "Internal Medicine"},
		{"medicina-de-familia-e-comunidade", "Medicina de Família e Comunidade", "Family and Community Medicine"},
		{"patologia-clinica-medicina-laboratorial", "Patologia Clínica/Medicina Laboratorial", "Clinical Pathology/Laboratory Medicine"},
	} {
		found := false
		for _, s := range out.Specialties {
			found = found || s == want
		}
		if !found {
			t.Fatalf("%+v is not in the catalogue", want)
		}
	}
}

func TestAdminAddsASpecialtyAuditedAndLegacyDoctorsMoveToIt(t *testing.T) {
	env := apptest.New(t)
	admin, adminID := adminToken(t, env)
	doc, _ := env.Doctor("Dr. Cardio", "Cardiology", -23.55, -46.63)
	patient, _, _ := env.Patient("Paula")
	sleepy := legacyDoctor(t, env, "Dr. Sono", "  medicina  do SONO ")
	legacyDoctor(t, env, "Dr. Typo", "Cardiolgy")
	legacyDoctor(t, env, "Dr. Typo 2", "Cardiolgy")

	var un struct {
		UnmatchedSpecialties []struct {
			Text    string
			Doctors int
		}
	}
	env.Do(admin, unmatchedOp, nil).Decode(t, &un)
	if fmt.Sprint(un.UnmatchedSpecialties) != "[{Cardiolgy 2} {  medicina  do SONO  1}]" {
		t.Fatalf("unmatched: %v", un.UnmatchedSpecialties)
	}
	sleep := map[string]any{"name": "Medicina do Sono", "nameEn": "Sleep Medicine"}
	for _, tc := range []struct {
		name, token string
		in          map[string]any
		code        string
		field       string
		reason      string
	}{
		{"anonymous", "", sleep, "UNAUTHENTICATED", "", ""},
		{"a doctor", doc, sleep, "FORBIDDEN", "", ""},
		{"a patient", patient, sleep, "FORBIDDEN", "", ""},
		{"a name the catalogue has, other case and accents", admin, map[string]any{"name": "CARDIOLOGÍA", "nameEn": "Heart"}, "CONFLICT", "", "ALREADY_EXISTS"},
		{"an English name the catalogue has in Portuguese", admin, map[string]any{"name": "Coracao", "nameEn": "cardiologia"}, "CONFLICT", "", "ALREADY_EXISTS"},
		{"a code taken", admin, map[string]any{"code": "urologia", "name": "Urologia Pediátrica", "nameEn": "Pediatric Urology"}, "CONFLICT", "", "ALREADY_EXISTS"},
		{"a malformed code", admin, map[string]any{"code": "Sleep Medicine", "name": "Medicina do Sono", "nameEn": "Sleep Medicine"}, "BAD_USER_INPUT", "code", ""},
		{"a blank name", admin, map[string]any{"name": "  ", "nameEn": "Sleep Medicine"}, "BAD_USER_INPUT", "name", ""},
		{"a control character", admin, map[string]any{"name": "Sono", "nameEn": "Sleep\u0000"}, "BAD_USER_INPUT", "nameEn", ""},
	} {
		r := env.Do(tc.token, createSpecialtyOp, map[string]any{"in": tc.in})
		if r.Code() != tc.code || (tc.field != "" && r.Ext("field") != tc.field) || (tc.reason != "" && r.Ext("reason") != tc.reason) {
			t.Fatalf("%s: %q field %q reason %q", tc.name, r.Code(), r.Ext("field"), r.Ext("reason"))
		}
	}
	var made struct{ CreateSpecialty specialtyRow }
	env.Do(admin, createSpecialtyOp, map[string]any{"in": sleep}).Decode(t, &made)
	if made.CreateSpecialty != (specialtyRow{"medicina-do-sono", "Medicina do Sono", "Sleep Medicine"}) {
		t.Fatalf("created %+v", made.CreateSpecialty)
	}
	var out struct{ Specialties []specialtyRow }
	env.Do("", specialtiesOp, nil).Decode(t, &out)
	if len(out.Specialties) != 56 {
		t.Fatalf("%d specialties after the addition", len(out.Specialties))
	}
	// Audited, with the admin as the actor.
	rows, err := env.DB.Client.AuditEvent.Query().Where(auditevent.ActionEQ(auditevent.ActionSPECIALTY_CREATE)).All(sysCtx())
	if err != nil || len(rows) != 1 || rows[0].ActorRole != "admin" || rows[0].ActorID == nil || *rows[0].ActorID != adminID ||
		rows[0].Detail != "specialty medicina-do-sono" {
		t.Fatalf("audit rows %+v, %v", rows, err)
	}
	// The legacy doctor whose text names it has it now; the typo stays.
	d, err := env.DB.Client.Doctor.Get(sysCtx(), sleepy)
	if err != nil || d.SpecialtyCode == nil || *d.SpecialtyCode != "medicina-do-sono" {
		t.Fatalf("legacy doctor after the addition: %+v %v", d, err)
	}
	env.Do(admin, unmatchedOp, nil).Decode(t, &un)
	if fmt.Sprint(un.UnmatchedSpecialties) != "[{Cardiolgy 2}]" {
		t.Fatalf("unmatched after the addition: %v", un.UnmatchedSpecialties)
	}
	if r := env.Do(doc, unmatchedOp, nil); r.Code() != "FORBIDDEN" {
		t.Fatalf("a doctor listing unmatched texts: %q", r.Code())
	}
}

func TestDoctorRegistersWithACatalogueSpecialty(t *testing.T) {
	env := apptest.New(t)
	for i, tc := range []struct {
		name      string
		specialty any
		code      any
		wantCode  string
		errCode   string
		errField  string
	}{
		{"by code", nil, "cardiologia", "cardiologia", "", ""},
		{"by Portuguese name, any case", "CARDIOLOGIA", nil, "cardiologia", "", ""},
		{"by English name", "Cardiology", nil, "cardiologia", "", ""},
		{"accents and blanks aside", "  clinica   medica ", nil, "clinica-medica", "", ""},
		{"an accent where there is none", "Dermatológia", nil, "dermatologia", "", ""},
		{"name and code agreeing", "Pediatrics", "pediatria", "pediatria", "", ""},
		{"a name the catalogue does not have", "Cardio", nil, "", "BAD_USER_INPUT", "specialty"},
		{"a code the catalogue does not have", nil, "cardiology", "", "BAD_USER_INPUT", "specialtyCode"},
		{"name and code disagreeing", "Urology", "pediatria", "", "BAD_USER_INPUT", "specialty"},
		{"neither", nil, nil, "", "BAD_USER_INPUT", "specialty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := map[string]any{
				"name": "Dr. Reg", "email": fmt.Sprintf("reg%d@example.com", i), "password": "correct horse battery",
				"crm": fmt.Sprintf("%d/SP", 770000+i), "priceCents": 20000,
				"location":  map[string]any{"lat": -23.55, "lng": -46.63},
				"specialty": tc.specialty, "specialtyCode": tc.code,
			}
			r := env.Do("", `mutation($in: RegisterDoctorInput!) { registerDoctor(input: $in) { refreshToken } }`, map[string]any{"in": in})
			if r.Code() != tc.errCode || r.Ext("field") != tc.errField {
				t.Fatalf("code %q field %q, want %q %q: %+v", r.Code(), r.Ext("field"), tc.errCode, tc.errField, r.Errors)
			}
			if tc.errCode != "" {
				return
			}
			var reg struct{ RegisterDoctor struct{ RefreshToken string } }
			r.Decode(t, &reg)
			token := env.Complete(t, in["email"].(string), reg.RegisterDoctor.RefreshToken)
			var me struct {
				Viewer struct {
					Specialty     string
					SpecialtyInfo specialtyRow
				}
			}
			env.Do(token, mySpecialtyOp, nil).Decode(t, &me)
			if me.Viewer.SpecialtyInfo.Code != tc.wantCode || me.Viewer.Specialty != me.Viewer.SpecialtyInfo.Name {
				t.Fatalf("registered as %+v", me.Viewer)
			}
		})
	}
	// A doctor changes their specialty by code.
	doc, _ := env.Doctor("Dr. Change", "Neurology", -23.55, -46.63)
	var set struct {
		SetSpecialty struct {
			Specialty     string
			SpecialtyInfo struct{ Code string }
		}
	}
	env.Do(doc, setSpecialtyOp, map[string]any{"c": "neurocirurgia"}).Decode(t, &set)
	if set.SetSpecialty.Specialty != "Neurocirurgia" || set.SetSpecialty.SpecialtyInfo.Code != "neurocirurgia" {
		t.Fatalf("after setSpecialty: %+v", set.SetSpecialty)
	}
	if r := env.Do(doc, setSpecialtyOp, map[string]any{"c": "brain"}); r.Code() != "BAD_USER_INPUT" || r.Ext("field") != "code" {
		t.Fatalf("an unknown code: %q %q", r.Code(), r.Ext("field"))
	}
	patient, _, _ := env.Patient("Pat")
	if r := env.Do(patient, setSpecialtyOp, map[string]any{"c": "neurologia"}); r.Code() != "FORBIDDEN" {
		t.Fatalf("a patient setting a specialty: %q", r.Code())
	}
}

// specialtyPage is a page of the search with each doctor's specialty.
type specialtyPage struct {
	Doctors struct {
		Edges []struct {
			Node struct {
				Name, Specialty string
				SpecialtyInfo   *struct{ Code string }
			}
		}
	}
}

func TestSearchBySpecialtyCodeAndName(t *testing.T) {
	env := apptest.New(t)
	lat, lng := project(t, env, 1000, 0)
	env.Doctor("Dr. En", "Cardiology", lat, lng)
	lat, lng = project(t, env, 2000, 0)
	env.Doctor("Dr. Pt", "cardiologia", lat, lng)
	lat, lng = project(t, env, 3000, 0)
	env.Doctor("Dr. Skin", "Dermatologia", lat, lng)
	// Written before the catalogue (or by an import) with a text that
	// names no entry: still found by that text.
	legacyDoctor(t, env, "Dr. Legacy", "Cardiolgy")
	const op = `query($near: GeoPointInput, $km: Float, $sp: String, $code: String) {
		doctors(near: $near, withinKm: $km, specialty: $sp, specialtyCode: $code, first: 10) {
			edges { node { name specialty specialtyInfo { code } } }
		}
	}`
	for _, tc := range []struct {
		name string
		vars map[string]any
		want string
	}{
		{"code, near a point", map[string]any{"near": saoPaulo, "km": 10.0, "code": "cardiologia"}, "[Dr. En Dr. Pt]"},
		{"code, anywhere", map[string]any{"code": "cardiologia"}, "[Dr. En Dr. Pt]"},
		{"Portuguese name finds the English registration", map[string]any{"near": saoPaulo, "km": 10.0, "sp": "cardiologia"}, "[Dr. En Dr. Pt]"},
		{"English name finds the Portuguese one", map[string]any{"sp": "CARDIOLOGY"}, "[Dr. En Dr. Pt]"},
		{"accents aside", map[string]any{"sp": "dermatológia"}, "[Dr. Skin]"},
		{"an unmatched legacy text, exactly", map[string]any{"sp": "Cardiolgy"}, "[Dr. Legacy]"},
		{"code and name together", map[string]any{"sp": "Dermatology", "code": "cardiologia"}, "[]"},
		{"a code nobody has", map[string]any{"code": "urologia"}, "[]"},
	} {
		var out specialtyPage
		env.Do("", op, tc.vars).Decode(t, &out)
		var names []string
		for _, e := range out.Doctors.Edges {
			names = append(names, e.Node.Name)
			n := e.Node
			if n.Name == "Dr. Legacy" {
				if n.Specialty != "Cardiolgy" || n.SpecialtyInfo != nil {
					t.Fatalf("%s: legacy doctor shows %+v", tc.name, n)
				}
			} else if n.SpecialtyInfo == nil || (n.SpecialtyInfo.Code == "cardiologia" && n.Specialty != "Cardiologia") {
				t.Fatalf("%s: %+v", tc.name, n)
			}
		}
		sort.Strings(names)
		if got := fmt.Sprint(names); got != tc.want && !(tc.want == "[]" && len(names) == 0) {
			t.Fatalf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestSearchKeepsTheCatalogueEntriesItRead: entries never change, so a
// replica answers a specialty it has read without asking the database
// again; a name it did not find is asked again, since an admin may add
// its entry at any time (on any replica).
func TestSearchKeepsTheCatalogueEntriesItRead(t *testing.T) {
	env := apptest.New(t)
	admin, _ := adminToken(t, env)
	env.Doctor("Dr. Cardio", "Cardiology", -23.55, -46.63)
	legacyDoctor(t, env, "Dr. Sono", "Medicina do Sono")
	const op = `query($sp: String) { doctors(specialty: $sp, first: 10) { edges { node { name specialty specialtyInfo { code } } } } }`
	search := func(sp string) string {
		var out specialtyPage
		env.Do("", op, map[string]any{"sp": sp}).Decode(t, &out)
		var got []string
		for _, e := range out.Doctors.Edges {
			code := "-"
			if e.Node.SpecialtyInfo != nil {
				code = e.Node.SpecialtyInfo.Code
			}
			got = append(got, e.Node.Name+"/"+e.Node.Specialty+"/"+code)
		}
		return fmt.Sprint(got)
	}
	if got := search("Cardiology"); got != "[Dr. Cardio/Cardiologia/cardiologia]" {
		t.Fatalf("first search: %s", got)
	}
	var got string
	if q := env.StatementsDuring("specialties", func() { got = search(" Cardiology ") }); len(q) != 0 || got != "[Dr. Cardio/Cardiologia/cardiologia]" {
		t.Fatalf("a search by a specialty read before: %s, and %d catalogue statements: %q", got, len(q), q)
	}
	if got := search("Medicina do Sono"); got != "[Dr. Sono/Medicina do Sono/-]" {
		t.Fatalf("a legacy text before its entry: %s", got)
	}
	env.Do(admin, createSpecialtyOp, map[string]any{"in": map[string]any{"name": "Medicina do Sono", "nameEn": "Sleep Medicine"}}).Decode(t, &struct{}{})
	for _, sp := range []string{"Medicina do Sono", "sleep medicine"} {
		if got := search(sp); got != "[Dr. Sono/Medicina do Sono/medicina-do-sono]" {
			t.Fatalf("%q once its entry is added: %s", sp, got)
		}
	}
}
