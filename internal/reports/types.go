package reports

import (
	"github.com/healthmed/healthmed/ent/appointment"
)

// The types below are the GraphQL types of the same names (gqlgen.yml
// binds them), so the API layer depends on the domain and not the reverse.

// MonthlyRevenue is one month of paid invoices.
type MonthlyRevenue struct {
	// YYYY-MM
	Month        string `json:"month"`
	RevenueCents int    `json:"revenueCents"`
	Invoices     int    `json:"invoices"`
}

// DoctorRating is one doctor's ratings in a range.
type DoctorRating struct {
	DoctorID   int    `json:"doctorId"`
	DoctorName string `json:"doctorName"`
	// Mean of the ratings in the range, 1 to 5.
	Average float64 `json:"average"`
	Ratings int     `json:"ratings"`
}

// NoShowReport is the no-show figures of a range, overall and per doctor.
type NoShowReport struct {
	Total    *NoShowFigures  `json:"total"`
	ByDoctor []*DoctorNoShow `json:"byDoctor"`
}

// DoctorNoShow is one doctor's no-show figures.
type DoctorNoShow struct {
	DoctorID   int            `json:"doctorId"`
	DoctorName string         `json:"doctorName"`
	Figures    *NoShowFigures `json:"figures"`
}

// NoShowFigures counts how past consultations ended.
type NoShowFigures struct {
	Eligible      int     `json:"eligible"`
	Completed     int     `json:"completed"`
	Unconfirmed   int     `json:"unconfirmed"`
	AutoCompleted int     `json:"autoCompleted"`
	Marked        int     `json:"marked"`
	NoShows       int     `json:"noShows"`
	Rate          float64 `json:"rate"`
}

// ConsultationCount is how many appointments a doctor had in one status.
type ConsultationCount struct {
	DoctorID   int                `json:"doctorId"`
	DoctorName string             `json:"doctorName"`
	Crm        string             `json:"crm"`
	Status     appointment.Status `json:"status"`
	Count      int                `json:"count"`
}
