package profile

import (
	"context"
	"slices"
	"strconv"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/internal/address"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/validate"
	"github.com/healthmed/healthmed/internal/viewer"
)

const (
	maxNameLen     = 200
	maxBioLen      = 2000
	maxLanguages   = 10
	maxPriceCents  = 100_000_000
	maxAddressPart = 200
)

// UpdateDoctor changes the signed-in doctor's public profile. The CRM and
// the verification are not part of it: they are the administrators'.
// A new location is searched from the moment the change commits; the
// appointments already booked keep the address they were booked at.
func (s *Service) UpdateDoctor(ctx context.Context, in DoctorProfileInput) (*ent.Doctor, error) {
	v := viewer.FromContext(ctx)
	d, err := s.db(ctx).Doctor.Query().Where(doctor.ID(v.ID)).ForUpdate().Only(ctx)
	if err != nil {
		return nil, err
	}
	u := s.db(ctx).Doctor.UpdateOne(d)
	if in.Name != nil {
		name, err := text("input.name", *in.Name, maxNameLen, true, false)
		if err != nil {
			return nil, err
		}
		u.SetName(name)
	}
	if in.Bio != nil {
		bio, err := text("input.bio", *in.Bio, maxBioLen, false, true)
		if err != nil {
			return nil, err
		}
		u.SetBio(bio)
	}
	if in.Languages != nil {
		langs, err := languages("input.languages", in.Languages)
		if err != nil {
			return nil, err
		}
		u.SetLanguages(langs)
	}
	addr := d.Address
	if in.Address != nil {
		if addr, err = checkAddress("input.address", *in.Address); err != nil {
			return nil, err
		}
		u.SetAddress(addr)
	}
	modes := d.ConsultationModes
	if in.ConsultationModes != nil {
		if modes, err = consultationModes("input.consultationModes", in.ConsultationModes); err != nil {
			return nil, err
		}
		u.SetConsultationModes(modes)
	}
	if slices.Contains(modes, string(InPerson)) && addr == nil {
		return nil, gqlerr.BadInput("input.address", "in-person consultations need the address patients come to")
	}
	if in.Location != nil {
		if err := in.Location.Validate(); err != nil {
			return nil, gqlerr.BadInput("input.location", "%s", err.Error())
		}
		u.SetLocation(*in.Location)
	}
	if in.PriceCents != nil {
		if p := *in.PriceCents; p < 0 || p > maxPriceCents {
			return nil, gqlerr.BadInput("input.priceCents", "priceCents must be between 0 and %d", maxPriceCents)
		}
		u.SetPriceCents(*in.PriceCents)
	}
	return u.Save(ctx)
}

func languages(path string, in []string) ([]string, error) {
	if len(in) > maxLanguages {
		return nil, gqlerr.BadInput(path, "at most %d languages", maxLanguages)
	}
	out := make([]string, 0, len(in))
	for i, l := range in {
		tag, err := validate.Language(l)
		if err != nil {
			return nil, fieldError(path+"["+strconv.Itoa(i)+"]", err)
		}
		if !slices.Contains(out, tag) {
			out = append(out, tag)
		}
	}
	return out, nil
}

func consultationModes(path string, in []ConsultationMode) ([]string, error) {
	if len(in) == 0 {
		return nil, gqlerr.BadInput(path, "name at least one consultation mode")
	}
	var out []string
	for i, m := range in {
		if !m.valid() {
			return nil, gqlerr.BadInput(path+"["+strconv.Itoa(i)+"]", "unknown consultation mode")
		}
		if !slices.Contains(out, string(m)) {
			out = append(out, string(m))
		}
	}
	return out, nil
}

// checkAddress checks and normalises every part of an address.
func checkAddress(path string, a address.Address) (*address.Address, error) {
	var out address.Address
	var err error
	for _, p := range []struct {
		name string
		in   string
		out  *string
	}{
		{"street", a.Street, &out.Street}, {"number", a.Number, &out.Number},
		{"district", a.District, &out.District}, {"city", a.City, &out.City},
	} {
		if *p.out, err = text(path+"."+p.name, p.in, maxAddressPart, true, false); err != nil {
			return nil, err
		}
	}
	if out.State, err = validate.State(a.State); err != nil {
		return nil, fieldError(path+".state", err)
	}
	if out.PostalCode, err = validate.PostalCode(a.PostalCode); err != nil {
		return nil, fieldError(path+".postalCode", err)
	}
	return &out, nil
}

// Modes are the doctor's consultation modes; a doctor who never said sees
// patients by video, as every doctor did before modes existed.
func Modes(d *ent.Doctor) []ConsultationMode {
	if len(d.ConsultationModes) == 0 {
		return []ConsultationMode{Video}
	}
	out := make([]ConsultationMode, len(d.ConsultationModes))
	for i, m := range d.ConsultationModes {
		out[i] = ConsultationMode(m)
	}
	return out
}

// RegistrySearchURL is the council's public search where a doctor's CRM
// number and state are looked up.
func RegistrySearchURL(*ent.Doctor) string { return registrySearchURL }
