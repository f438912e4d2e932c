package graph_test

import (
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/healthmed/healthmed/graph/generated"
)

// TestConsultationTimesReachTheDoctorsZone: every Time is an instant in
// UTC (scalar.MarshalTime), and a consultation's times are shown in the
// doctor's zone (README, "Times and zones"). So every object with a
// consultation time (startsAt, endsAt, serviceAt) must lead to a Doctor,
// whose timezone field says the zone, within two fields; or, like
// Meeting, be reachable only from objects that do.
func TestConsultationTimesReachTheDoctorsZone(t *testing.T) {
	s := generated.NewExecutableSchema(generated.Config{}).Schema()
	if tz := s.Types["Doctor"].Fields.ForName("timezone"); tz == nil || tz.Type.String() != "String!" {
		t.Fatal("Doctor has no timezone: String! field")
	}
	object := func(f *ast.FieldDefinition) *ast.Definition {
		if d := s.Types[f.Type.Name()]; d != nil && d.Kind == ast.Object {
			return d
		}
		return nil
	}
	var reaches func(d *ast.Definition, depth int) bool
	reaches = func(d *ast.Definition, depth int) bool {
		if d.Name == "Doctor" {
			return true
		}
		if depth == 0 {
			return false
		}
		for _, f := range d.Fields {
			if o := object(f); o != nil && reaches(o, depth-1) {
				return true
			}
		}
		return false
	}
	// Who holds a field of type name.
	holders := func(name string) []*ast.Definition {
		var out []*ast.Definition
		for _, d := range s.Types {
			if d.Kind != ast.Object || d.BuiltIn {
				continue
			}
			for _, f := range d.Fields {
				if f.Type.Name() == name {
					out = append(out, d)
					break
				}
			}
		}
		return out
	}
	checked := 0
	for _, d := range s.Types {
		if d.Kind != ast.Object || d.BuiltIn {
			continue
		}
		timed := false
		for _, f := range d.Fields {
			switch f.Name {
			case "startsAt", "endsAt", "serviceAt":
				timed = timed || f.Type.Name() == "Time"
			}
		}
		if !timed {
			continue
		}
		checked++
		if reaches(d, 2) {
			continue
		}
		hs := holders(d.Name)
		for _, h := range hs {
			if !reaches(h, 2) {
				t.Errorf("%s has consultation times, and neither it nor %s leads to the doctor's timezone", d.Name, h.Name)
			}
		}
		if len(hs) == 0 {
			t.Errorf("%s has consultation times and leads to no doctor's timezone", d.Name)
		}
	}
	if checked < 4 {
		t.Fatalf("only %d types with consultation times found: the check looks at the wrong fields", checked)
	}
}
