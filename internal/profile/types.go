package profile

import (
	"fmt"
	"io"
	"strconv"

	"github.com/healthmed/healthmed/internal/address"
	"github.com/healthmed/healthmed/internal/geo"
)

// ConsultationMode is how a doctor sees patients.
type ConsultationMode string

const (
	Video    ConsultationMode = "VIDEO"
	InPerson ConsultationMode = "IN_PERSON"
)

func (m ConsultationMode) valid() bool { return m == Video || m == InPerson }

// MarshalGQL writes the mode as its enum value.
func (m ConsultationMode) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(m))) }

// UnmarshalGQL reads an enum value; gqlgen has already checked it against
// the schema's enum.
func (m *ConsultationMode) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok || !ConsultationMode(s).valid() {
		return fmt.Errorf("%v is not a ConsultationMode", v)
	}
	*m = ConsultationMode(s)
	return nil
}

// DoctorProfileInput is updateDoctorProfile's input. A field left out (or
// null) stays as it is.
type DoctorProfileInput struct {
	Name              *string
	Bio               *string
	Languages         []string
	ConsultationModes []ConsultationMode
	Address           *address.Address
	Location          *geo.Point
	PriceCents        *int
	Timezone          *string
}

// PatientProfileInput is updatePatientProfile's input. A field left out
// (or null) stays as it is; an empty string clears it.
type PatientProfileInput struct {
	Name              *string
	Phone             *string
	BirthDate         *string
	PreferredLanguage *string
}

// Verification is the schema's DoctorVerification: where the clinic's
// check of a doctor's CRM stands.
type Verification string

// MarshalGQL writes the verification as its enum value.
func (v Verification) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(v))) }

// UnmarshalGQL reads an enum value.
func (v *Verification) UnmarshalGQL(x any) error {
	s, ok := x.(string)
	if !ok {
		return fmt.Errorf("%v is not a DoctorVerification", x)
	}
	*v = Verification(s)
	return nil
}
