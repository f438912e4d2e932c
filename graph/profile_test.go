package graph_test

import (
	"strings"
	"testing"

	"github.com/healthmed/healthmed/internal/apptest"
)

const (
	updateDoctorOp = `mutation($in: DoctorProfileInput!) { updateDoctorProfile(input: $in) {
		id name bio languages consultationModes priceCents location { lat lng }
		address { street number district city state postalCode } } }`
	updatePatientOp = `mutation($in: PatientProfileInput!) { updatePatientProfile(input: $in) {
		id name phone birthDate preferredLanguage } }`
	publicDoctorOp = `query($id: ID!) { node(id: $id) { ... on Doctor {
		name bio languages consultationModes priceCents photoUrl
		address { street number district city state postalCode } } } }`
	patientDetailsOp     = `query($id: ID!) { node(id: $id) { ... on Patient { name phone birthDate preferredLanguage } } }`
	appointmentAddressOp = `query($id: ID!) { node(id: $id) { ... on Appointment { address { street city postalCode } } } }`
	nearestPriceOp       = `query($near: GeoPointInput) { doctors(near: $near, withinKm: 20, first: 50) {
		edges { node { id priceCents } } } }`
)

var paulista = map[string]any{
	"street": "Avenida Paulista", "number": "1578", "district": "Bela Vista",
	"city": "São Paulo", "state": "sp", "postalCode": "01310200",
}

func TestDoctorProfileRefusesBadInput(t *testing.T) {
	env := apptest.New(t)
	doc, _ := env.Doctor("Dr. Careful", "Cardiology", -23.55, -46.63)
	with := func(k string, v any) map[string]any {
		a := map[string]any{}
		for key, val := range paulista {
			a[key] = val
		}
		a[k] = v
		return a
	}
	for _, tc := range []struct {
		name, field string
		in          map[string]any
	}{
		{"empty name", "input.name", map[string]any{"name": "   "}},
		{"a line break in the name", "input.name", map[string]any{"name": "Dr. Careful\nSubject: urgent"}},
		{"a control character in the name", "input.name", map[string]any{"name": "Dr. Careful\x00"}},
		{"bidi override in the bio", "input.bio", map[string]any{"bio": "Cardiologista \u202e"}},
		{"bio too long", "input.bio", map[string]any{"bio": strings.Repeat("a", 2001)}},
		{"a language that is no tag", "input.languages[1]", map[string]any{"languages": []string{"pt-BR", "Portuguese"}}},
		{"eleven languages", "input.languages", map[string]any{"languages": strings.Split("pt,en,es,fr,de,it,ja,zh,ru,ar,ko", ",")}},
		{"no consultation mode", "input.consultationModes", map[string]any{"consultationModes": []string{}}},
		{"in person without an address", "input.address", map[string]any{"consultationModes": []string{"IN_PERSON"}}},
		{"a CEP of seven digits", "input.address.postalCode", map[string]any{"address": with("postalCode", "0131020")}},
		{"a CEP with letters", "input.address.postalCode", map[string]any{"address": with("postalCode", "01310-2OO")}},
		{"no such state", "input.address.state", map[string]any{"address": with("state", "XX")}},
		{"an empty street", "input.address.street", map[string]any{"address": with("street", "")}},
		{"a line break in the city", "input.address.city", map[string]any{"address": with("city", "São\nPaulo")}},
		{"a negative price", "input.priceCents", map[string]any{"priceCents": -1}},
		{"a point off the Earth", "input.location", map[string]any{"location": map[string]any{"lat": 91, "lng": 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := env.Do(doc, updateDoctorOp, map[string]any{"in": tc.in})
			if r.Code() != "BAD_USER_INPUT" || r.Ext("field") != tc.field {
				t.Fatalf("code %q field %q, want BAD_USER_INPUT %q (%+v)", r.Code(), r.Ext("field"), tc.field, r.Errors)
			}
		})
	}
	// The CRM is not the doctor's to change, nor the verification: the
	// input has no such fields at all.
	if r := env.Do(doc, updateDoctorOp, map[string]any{"in": map[string]any{"crm": "1/SP"}}); r.Code() == "" {
		t.Fatal("the CRM was accepted in a profile")
	}
	// Nothing of a refused edit was kept.
	var out struct{ Node struct{ Name, Bio string } }
	env.Do("", publicDoctorOp, map[string]any{"id": viewerID(t, env, doc)}).Decode(t, &out)
	if out.Node.Name != "Dr. Careful" || out.Node.Bio != "" {
		t.Fatalf("profile after refusals: %+v", out.Node)
	}
}

func TestDoctorProfileEditMovesTheSearchNotTheAppointments(t *testing.T) {
	env := apptest.New(t)
	doc, _ := env.Doctor("Dr. Mover", "Cardiology", -23.55, -46.63)
	id := viewerID(t, env, doc)
	pat, _, _ := env.Patient("Pedro")
	anyone, _, _ := env.Patient("Ana")

	var first struct {
		UpdateDoctorProfile struct {
			Address struct{ State, PostalCode string }
		}
	}
	env.Do(doc, updateDoctorOp, map[string]any{"in": map[string]any{
		"address": paulista, "consultationModes": []string{"IN_PERSON", "VIDEO", "VIDEO"},
	}}).Decode(t, &first)
	if a := first.UpdateDoctorProfile.Address; a.State != "SP" || a.PostalCode != "01310-200" {
		t.Fatalf("address not normalised: %+v", a)
	}
	booked := book(t, env, pat, createSlot(t, env, doc, tomorrowAt(9), 30))

	// The doctor moves to Rio and raises the price.
	rio := map[string]any{"lat": -22.9068, "lng": -43.1729}
	var moved struct {
		UpdateDoctorProfile struct {
			Name, Bio         string
			Languages         []string
			ConsultationModes []string
			PriceCents        int
			Address           struct{ City, PostalCode string }
		}
	}
	env.Do(doc, updateDoctorOp, map[string]any{"in": map[string]any{
		"name": "Dra. Mover", "bio": "Cardiologia clínica.\nAtende adultos.", "languages": []string{"pt-br", "EN", "pt-BR"},
		"priceCents": 32000, "location": rio,
		"address": map[string]any{"street": "Rua Voluntários da Pátria", "number": "45", "district": "Botafogo",
			"city": "Rio de Janeiro", "state": "RJ", "postalCode": "22270-000"},
	}}).Decode(t, &moved)
	m := moved.UpdateDoctorProfile
	if m.Name != "Dra. Mover" || m.PriceCents != 32000 || m.Address.City != "Rio de Janeiro" ||
		strings.Join(m.Languages, ",") != "pt-BR,en" || strings.Join(m.ConsultationModes, ",") != "IN_PERSON,VIDEO" {
		t.Fatalf("after the move: %+v", m)
	}

	// Found in Rio at once, no longer in São Paulo.
	find := func(near map[string]any) (int, bool) {
		var out struct {
			Doctors struct {
				Edges []struct {
					Node struct {
						ID         string
						PriceCents int
					}
				}
			}
		}
		env.Do("", nearestPriceOp, map[string]any{"near": near}).Decode(t, &out)
		for _, e := range out.Doctors.Edges {
			if e.Node.ID == id {
				return e.Node.PriceCents, true
			}
		}
		return 0, false
	}
	if _, ok := find(saoPaulo); ok {
		t.Fatal("still found in São Paulo")
	}
	if price, ok := find(rio); !ok || price != 32000 {
		t.Fatalf("in Rio: found %v at %d", ok, price)
	}

	// The appointment booked before the move keeps its address.
	var appt struct {
		Node struct {
			Address struct{ Street, City, PostalCode string }
		}
	}
	env.Do(pat, appointmentAddressOp, map[string]any{"id": booked}).Decode(t, &appt)
	if a := appt.Node.Address; a.Street != "Avenida Paulista" || a.City != "São Paulo" || a.PostalCode != "01310-200" {
		t.Fatalf("the appointment's address: %+v", a)
	}

	// Anyone, signed in or not, reads the public profile.
	for name, token := range map[string]string{"anonymous": "", "a patient": anyone} {
		var pub struct {
			Node struct {
				Name, Bio         string
				Languages         []string
				ConsultationModes []string
				Address           struct{ District string }
			}
		}
		env.Do(token, publicDoctorOp, map[string]any{"id": id}).Decode(t, &pub)
		if pub.Node.Name != "Dra. Mover" || pub.Node.Address.District != "Botafogo" || len(pub.Node.Languages) != 2 ||
			!strings.HasPrefix(pub.Node.Bio, "Cardiologia") || len(pub.Node.ConsultationModes) != 2 {
			t.Fatalf("%s reads %+v", name, pub.Node)
		}
	}
}

func TestPatientProfileIsPrivate(t *testing.T) {
	env := apptest.New(t)
	alice, _, _ := env.Patient("Alice")
	bob, _, _ := env.Patient("Bob")
	her, _ := env.Doctor("Dr. Hers", "Cardiology", -23.55, -46.63)
	stranger, _ := env.Doctor("Dr. Stranger", "Cardiology", -23.55, -46.63)
	aliceID := viewerID(t, env, alice)

	for _, tc := range []struct {
		name, field string
		in          map[string]any
	}{
		{"a national number", "input.phone", map[string]any{"phone": "11 91234-5678"}},
		{"letters in the phone", "input.phone", map[string]any{"phone": "+55 11 CALL-ME"}},
		{"a birth date in the future", "input.birthDate", map[string]any{"birthDate": "2999-01-01"}},
		{"no such day", "input.birthDate", map[string]any{"birthDate": "1990-02-30"}},
		{"a language that is no tag", "input.preferredLanguage", map[string]any{"preferredLanguage": "português"}},
		{"an empty name", "input.name", map[string]any{"name": ""}},
		// Names reach e-mails and the doctor's screen.
		{"a line break in the name", "input.name", map[string]any{"name": "Alice\r\nBcc: all@example.com"}},
		{"a control character in the name", "input.name", map[string]any{"name": "Alice\x07"}},
		{"a bidi override in the name", "input.name", map[string]any{"name": "Alice \u202eecilA"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := env.Do(alice, updatePatientOp, map[string]any{"in": tc.in})
			if r.Code() != "BAD_USER_INPUT" || r.Ext("field") != tc.field {
				t.Fatalf("code %q field %q, want %q", r.Code(), r.Ext("field"), tc.field)
			}
		})
	}

	var upd struct {
		UpdatePatientProfile struct{ Phone, BirthDate, PreferredLanguage string }
	}
	env.Do(alice, updatePatientOp, map[string]any{"in": map[string]any{
		"phone": "+55 (11) 91234-5678", "birthDate": "1985-07-14", "preferredLanguage": "pt-br",
	}}).Decode(t, &upd)
	if u := upd.UpdatePatientProfile; u.Phone != "+5511912345678" || u.BirthDate != "1985-07-14" || u.PreferredLanguage != "pt-BR" {
		t.Fatalf("updated: %+v", u)
	}

	// Another patient, a doctor she never booked, a stranger: nothing.
	for name, token := range map[string]string{"another patient": bob, "an unrelated doctor": stranger, "anonymous": ""} {
		r := env.Do(token, patientDetailsOp, map[string]any{"id": aliceID})
		if r.Code() != "NOT_FOUND" || strings.Contains(string(r.Data), "91234") {
			t.Fatalf("%s: %q %s", name, r.Code(), r.Data)
		}
	}
	// Nor can another patient write her details: the mutation is the
	// signed-in account's own, so Bob's edit changes Bob.
	var bobs struct{ UpdatePatientProfile struct{ ID, Phone string } }
	env.Do(bob, updatePatientOp, map[string]any{"in": map[string]any{"phone": "+5521988887777"}}).Decode(t, &bobs)
	if bobs.UpdatePatientProfile.ID == aliceID {
		t.Fatal("Bob's edit reached Alice")
	}

	// The doctor she booked reaches her to run the consultation.
	book(t, env, alice, createSlot(t, env, her, tomorrowAt(9), 30))
	var seen struct {
		Node struct{ Phone, BirthDate, PreferredLanguage string }
	}
	env.Do(her, patientDetailsOp, map[string]any{"id": aliceID}).Decode(t, &seen)
	if seen.Node.Phone != "+5511912345678" || seen.Node.BirthDate != "1985-07-14" {
		t.Fatalf("her doctor reads %+v", seen.Node)
	}

	// An empty string clears a detail.
	env.Do(alice, updatePatientOp, map[string]any{"in": map[string]any{"phone": ""}}).Decode(t, &upd)
	var cleared struct{ UpdatePatientProfile struct{ Phone *string } }
	env.Do(alice, updatePatientOp, map[string]any{"in": map[string]any{}}).Decode(t, &cleared)
	if cleared.UpdatePatientProfile.Phone != nil {
		t.Fatalf("phone after clearing: %q", *cleared.UpdatePatientProfile.Phone)
	}

	// Each kind of account edits its own kind of profile only.
	if r := env.Do(her, updatePatientOp, map[string]any{"in": map[string]any{}}); r.Code() != "FORBIDDEN" {
		t.Fatalf("a doctor editing a patient profile: %q", r.Code())
	}
	if r := env.Do(alice, updateDoctorOp, map[string]any{"in": map[string]any{}}); r.Code() != "FORBIDDEN" {
		t.Fatalf("a patient editing a doctor profile: %q", r.Code())
	}
	if r := env.Do("", updatePatientOp, map[string]any{"in": map[string]any{}}); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("anonymous: %q", r.Code())
	}
}
