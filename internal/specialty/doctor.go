package specialty

import (
	"context"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/internal/viewer"
)

// SetDoctorSpecialty makes the entry of code the signed-in doctor's
// specialty.
func (c *Catalogue) SetDoctorSpecialty(ctx context.Context, code string) (*ent.Doctor, error) {
	db := c.db(ctx)
	s, err := Choose(ctx, db, &code, nil, "code", "code")
	if err != nil {
		return nil, err
	}
	return db.Doctor.UpdateOneID(viewer.FromContext(ctx).ID).
		SetSpecialtyCode(s.Code).SetSpecialty(s.Name).Save(ctx)
}

// Of is d's catalogue entry; nil when d registered before the catalogue
// with a text that names no entry.
func (c *Catalogue) Of(ctx context.Context, d *ent.Doctor) (*ent.Specialty, error) {
	if d.SpecialtyCode == nil {
		return nil, nil
	}
	return c.ByCode(ctx, *d.SpecialtyCode)
}

// Name is what Doctor.specialty shows: the entry's Portuguese name, or
// the legacy text as typed when it names none.
func (c *Catalogue) Name(ctx context.Context, d *ent.Doctor) (string, error) {
	s, err := c.Of(ctx, d)
	if err != nil || s == nil {
		return d.Specialty, err
	}
	return s.Name, nil
}
