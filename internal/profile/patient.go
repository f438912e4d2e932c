package profile

import (
	"context"
	"strings"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/internal/validate"
	"github.com/healthmed/healthmed/internal/viewer"
)

// UpdatePatient changes the signed-in patient's details. They stay as
// private as the rest of the patient: the patient and the doctors the
// patient has an appointment or a live share with read them, nobody else.
func (s *Service) UpdatePatient(ctx context.Context, in PatientProfileInput) (*ent.Patient, error) {
	v := viewer.FromContext(ctx)
	u := s.db(ctx).Patient.UpdateOneID(v.ID)
	if in.Name != nil {
		name, err := text("input.name", *in.Name, maxNameLen, true, false)
		if err != nil {
			return nil, err
		}
		u.SetName(name)
	}
	if in.Phone != nil {
		if strings.TrimSpace(*in.Phone) == "" {
			u.ClearPhone()
		} else {
			phone, err := validate.Phone(*in.Phone)
			if err != nil {
				return nil, fieldError("input.phone", err)
			}
			u.SetPhone(phone)
		}
	}
	if in.BirthDate != nil {
		if strings.TrimSpace(*in.BirthDate) == "" {
			u.ClearBirthDate()
		} else {
			d, err := validate.BirthDate(*in.BirthDate, s.now())
			if err != nil {
				return nil, fieldError("input.birthDate", err)
			}
			u.SetBirthDate(d)
		}
	}
	if in.PreferredLanguage != nil {
		if strings.TrimSpace(*in.PreferredLanguage) == "" {
			u.ClearPreferredLanguage()
		} else {
			tag, err := validate.Language(*in.PreferredLanguage)
			if err != nil {
				return nil, fieldError("input.preferredLanguage", err)
			}
			u.SetPreferredLanguage(tag)
		}
	}
	return u.Save(ctx)
}

// BirthDate is the patient's date of birth as YYYY-MM-DD.
func BirthDate(p *ent.Patient) *string {
	if p.BirthDate == nil {
		return nil
	}
	s := p.BirthDate.UTC().Format("2006-01-02")
	return &s
}
