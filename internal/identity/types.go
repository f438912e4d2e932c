package identity

import (
	"time"

	"github.com/healthmed/healthmed/internal/geo"
)

// The types below are the GraphQL types of the same names (gqlgen.yml
// binds them), so the API layer depends on the domain and not the reverse.

// AuthPayload is what a sign-in answers: an access token and the refresh
// token that renews it.
type AuthPayload struct {
	// Bearer token for requests and connection_init; valid until expiresAt.
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
	// Exchanged once, with refreshSession, for a new AuthPayload. Reusing one
	// already exchanged signs every token of that sign-in out. Keep it out of
	// anything a script on the page can read when you can.
	RefreshToken string `json:"refreshToken"`
	// When the sign-in ends, however often it is refreshed.
	RefreshExpiresAt time.Time `json:"refreshExpiresAt"`
}

// RegisterPatientInput is registerPatient's input.
type RegisterPatientInput struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	// 11 digits; punctuation is accepted.
	Cpf      string `json:"cpf"`
	Password string `json:"password"`
}

// RegisterDoctorInput is registerDoctor's input.
type RegisterDoctorInput struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Password string `json:"password"`
	// CRM number and state, e.g. "123456/SP".
	Crm string `json:"crm"`
	// A catalogue name in either language, or the code in SpecialtyCode.
	Specialty     *string    `json:"specialty,omitempty"`
	SpecialtyCode *string    `json:"specialtyCode,omitempty"`
	PriceCents    int        `json:"priceCents"`
	Location      *geo.Point `json:"location"`
	// IANA time zone; America/Sao_Paulo when omitted.
	Timezone *string `json:"timezone,omitempty"`
}
