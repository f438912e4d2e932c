package specialty

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"entgo.io/ent/dialect/sql"
	"golang.org/x/text/unicode/norm"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/auditevent"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/viewer"
)

// MaxCodeLength bounds a code.
const MaxCodeLength = 64

var codeRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// CreateInput is createSpecialty's input.
type CreateInput struct {
	// Lower-case ASCII words joined by hyphens; made from name when omitted.
	Code   *string `json:"code,omitempty"`
	Name   string  `json:"name"`
	NameEn string  `json:"nameEn"`
}

// Unmatched is a free-text specialty of doctors registered before the
// catalogue that names no entry of it, and how many doctors have it.
type Unmatched struct {
	Text    string `json:"text"`
	Doctors int    `json:"doctors"`
}

// Create adds an entry to the catalogue, writes the audit row, and gives
// its code to the doctors whose legacy free text it names.
func (c *Catalogue) Create(ctx context.Context, in CreateInput) (*ent.Specialty, error) {
	name, err := entryName("name", in.Name)
	if err != nil {
		return nil, err
	}
	nameEn, err := entryName("nameEn", in.NameEn)
	if err != nil {
		return nil, err
	}
	code := Slug(name)
	if in.Code != nil {
		code = strings.TrimSpace(*in.Code)
	}
	if len(code) > MaxCodeLength || !codeRE.MatchString(code) {
		return nil, gqlerr.BadInput("code", "code is lower-case letters and digits in words joined by hyphens, at most %d characters", MaxCodeLength)
	}
	db := c.db(ctx)
	// Both names must be new in either language, once folded: a name
	// typed later must lead to exactly one entry.
	for _, n := range []struct{ field, name string }{{"name", name}, {"nameEn", nameEn}} {
		same, err := ByName(ctx, db, n.name)
		if err != nil {
			return nil, err
		}
		if same != nil {
			return nil, gqlerr.ConflictError(gqlerr.ReasonAlreadyExists, "the catalogue has "+same.Name+" ("+same.Code+") already")
		}
	}
	if same, err := ByCode(ctx, db, code); err != nil || same != nil {
		if err == nil {
			err = gqlerr.ConflictError(gqlerr.ReasonAlreadyExists, "the code "+code+" is taken")
		}
		return nil, err
	}
	s, err := db.Specialty.Create().SetCode(code).SetName(name).SetNameEn(nameEn).Save(ctx)
	if err != nil {
		return nil, err
	}
	v := viewer.FromContext(ctx)
	if err := db.AuditEvent.Create().SetAction(auditevent.ActionSPECIALTY_CREATE).SetAllowed(true).
		SetActorRole(v.Role.String()).SetActorID(v.ID).SetClientAddr(v.ClientAddr).
		SetDetail("specialty " + code).Exec(ctx); err != nil {
		return nil, err
	}
	// Mapping the doctors is the server's bookkeeping, not the admin's
	// write to their profiles.
	err = db.Doctor.Update().Where(doctor.SpecialtyCodeIsNil(), doctorTextNames(name, nameEn)).
		SetSpecialtyCode(code).Exec(viewer.SystemContext(ctx))
	return s, err
}

// Unmatched lists the legacy free-text specialties that name no entry,
// the most common first.
func (c *Catalogue) Unmatched(ctx context.Context) ([]*Unmatched, error) {
	var rows []struct {
		Specialty string `json:"specialty"`
		Count     int    `json:"count"`
	}
	err := c.db(ctx).Doctor.Query().Where(doctor.SpecialtyCodeIsNil()).
		GroupBy(doctor.FieldSpecialty).Aggregate(ent.Count()).Scan(ctx, &rows)
	if err != nil {
		return nil, err
	}
	out := make([]*Unmatched, len(rows))
	for i, r := range rows {
		out[i] = &Unmatched{Text: r.Specialty, Doctors: r.Count}
	}
	sortUnmatched(out)
	return out, nil
}

func entryName(field, v string) (string, error) {
	v = strings.Join(strings.Fields(v), " ")
	switch {
	case v == "":
		return "", gqlerr.BadInput(field, "%s is required", field)
	case !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return !unicode.IsPrint(r) }):
		return "", gqlerr.BadInput(field, "%s must not contain control or formatting characters", field)
	case len([]rune(v)) > MaxNameLength:
		return "", gqlerr.BadInput(field, "%s must have at most %d characters", field, MaxNameLength)
	}
	return v, nil
}

// Slug makes a code from a name: its letters without accents, lower-case,
// and its digits, in words joined by hyphens.
func Slug(name string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range norm.NFD.String(name) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(unicode.ToLower(r))
		default:
			hyphen = true
		}
	}
	return b.String()
}

// doctorTextNames matches the doctors whose free-text specialty reads as
// one of names once folded.
func doctorTextNames(names ...string) func(*sql.Selector) {
	return func(s *sql.Selector) {
		preds := make([]*sql.Predicate, len(names))
		for i, n := range names {
			preds[i] = sql.P(func(b *sql.Builder) {
				b.WriteString("specialty_fold(" + s.C(doctor.FieldSpecialty) + ") = specialty_fold(").Arg(n).WriteString(")")
			})
		}
		s.Where(sql.Or(preds...))
	}
}

func sortUnmatched(u []*Unmatched) {
	sort.Slice(u, func(i, j int) bool {
		if u[i].Doctors != u[j].Doctors {
			return u[i].Doctors > u[j].Doctors
		}
		return u[i].Text < u[j].Text
	})
}
