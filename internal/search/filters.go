package search

import (
	"strings"
	"unicode/utf8"

	"entgo.io/ent/dialect/sql"

	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/ent/predicate"
	"github.com/healthmed/healthmed/internal/clock"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/profile"
	"github.com/healthmed/healthmed/internal/validate"
)

// MaxFilterText bounds a typed name or city: no doctor's name or city is
// longer, so a longer text could only match nothing.
const MaxFilterText = 200

// The folds below call specialty_fold, the database's one definition of
// "case, accents and repeated blanks aside" (the catalogue's migration);
// the expression indexes on the doctors' name and city are built on the
// same calls, so the planner matches them.

// Each predicate takes its column's qualified name when applied, not
// when the statement is written: boundedCount applies them to an inner
// select it then wraps.

// namePrefix matches the doctors whose folded name starts with the folded
// text. LIKE with a constant prefix is what a text_pattern_ops index
// serves; the text's own wildcards are escaped so they match themselves.
func namePrefix(text string) predicate.Doctor {
	return func(s *sql.Selector) {
		col := s.C(doctor.FieldName)
		s.Where(sql.P(func(b *sql.Builder) {
			b.WriteString("specialty_fold(").Ident(col).
				WriteString(") LIKE specialty_fold(").Arg(escapeLike(text)).WriteString(") || '%'")
		}))
	}
}

// inCity matches the doctors whose address's city reads as the text once
// both are folded: "sao paulo" finds "São Paulo".
func inCity(text string) predicate.Doctor {
	return func(s *sql.Selector) {
		col := s.C(doctor.FieldAddress)
		s.Where(sql.P(func(b *sql.Builder) {
			b.WriteString("specialty_fold(").Ident(col).WriteString("->>'city') = specialty_fold(").
				Arg(text).WriteString(")")
		}))
	}
}

// inState matches the doctors whose address is in the federative unit
// (stored as validate.State writes it).
func inState(uf string) predicate.Doctor {
	return func(s *sql.Selector) {
		col := s.C(doctor.FieldAddress)
		s.Where(sql.P(func(b *sql.Builder) {
			b.WriteString("(").Ident(col).WriteString("->>'state') = ").Arg(uf)
		}))
	}
}

// withMode matches the doctors who see patients that way. A doctor who
// never named a mode sees patients by video (profile.Modes).
func withMode(m profile.ConsultationMode) predicate.Doctor {
	return func(s *sql.Selector) {
		col := s.C(doctor.FieldConsultationModes)
		s.Where(sql.P(func(b *sql.Builder) {
			b.WriteString("(")
			if m == profile.Video {
				b.WriteString("coalesce(").Ident(col).WriteString(", '[]') IN ('[]', 'null') OR ")
			}
			b.Ident(col).WriteString(" @> jsonb_build_array(").Arg(string(m)).WriteString("::text))")
		}))
	}
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// filterPreds checks the name, city, state and mode filters and returns
// their predicates.
func (a DoctorArgs) filterPreds() ([]predicate.Doctor, error) {
	var preds []predicate.Doctor
	for _, f := range []struct {
		field string
		text  *string
		pred  func(string) predicate.Doctor
	}{{"name", a.Name, namePrefix}, {"city", a.City, inCity}} {
		if f.text == nil {
			continue
		}
		t := strings.TrimSpace(*f.text)
		if t == "" || utf8.RuneCountInString(t) > MaxFilterText || !utf8.ValidString(t) || strings.ContainsRune(t, 0) {
			return nil, gqlerr.BadInput(f.field, "%s must be 1 to %d characters", f.field, MaxFilterText)
		}
		preds = append(preds, f.pred(t))
	}
	if a.State != nil {
		uf, err := validate.State(*a.State)
		if err != nil {
			return nil, gqlerr.BadInput("state", "state must be a federative unit's two letters, such as SP")
		}
		preds = append(preds, inState(uf))
	}
	if a.Mode != nil {
		if m := *a.Mode; m != profile.Video && m != profile.InPerson {
			return nil, gqlerr.BadInput("mode", "unknown consultation mode")
		}
		preds = append(preds, withMode(*a.Mode))
	}
	for _, f := range []struct {
		field string
		cents *int
		pred  func(int) predicate.Doctor
	}{{"minPriceCents", a.MinPriceCents, doctor.PriceCentsGTE}, {"maxPriceCents", a.MaxPriceCents, doctor.PriceCentsLTE}} {
		if f.cents == nil {
			continue
		}
		if c := *f.cents; c < 0 || c > MaxPriceCents {
			return nil, gqlerr.BadInput(f.field, "%s must be between 0 and %d", f.field, MaxPriceCents)
		}
		preds = append(preds, f.pred(*f.cents))
	}
	if a.MinPriceCents != nil && a.MaxPriceCents != nil && *a.MinPriceCents > *a.MaxPriceCents {
		return nil, gqlerr.BadInput("maxPriceCents", "maxPriceCents is below minPriceCents")
	}
	if a.FreeBefore != nil {
		preds = append(preds, hasFreeSlotBefore(clock.UTC(a.Now), a.FreeBefore.UTC()))
	}
	return preds, nil
}

// MaxPriceCents bounds a price filter: R$ 100,000, far above any
// consultation's price.
const MaxPriceCents = 10_000_000
