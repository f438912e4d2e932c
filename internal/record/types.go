package record

import (
	"time"

	"github.com/healthmed/healthmed/ent/recordfile"
)

// The types below are the GraphQL types of the same names (gqlgen.yml
// binds them), so the API layer depends on the domain and not the reverse.

// RecordFileInput describes an uploaded file.
type RecordFileInput struct {
	// 1 to 100 characters.
	Title    string              `json:"title"`
	Category recordfile.Category `json:"category"`
	// Up to 20 tags of 1 to 40 characters; stored lower-cased.
	Tags []string `json:"tags,omitempty"`
}

// UpdateRecordFileInput changes a file's description; nil leaves a field.
type UpdateRecordFileInput struct {
	Title    *string              `json:"title,omitempty"`
	Category *recordfile.Category `json:"category,omitempty"`
	Tags     []string             `json:"tags,omitempty"`
}

// ShareInput is what a patient shares with a doctor, and until when.
type ShareInput struct {
	DoctorID   int                   `json:"doctorId"`
	FileIds    []int                 `json:"fileIds,omitempty"`
	Categories []recordfile.Category `json:"categories,omitempty"`
	Tags       []string              `json:"tags,omitempty"`
	ExpiresAt  time.Time             `json:"expiresAt"`
}

// ConsultationReportInput is a doctor's report of a consultation; the
// report is either Text or a file uploaded beside it.
type ConsultationReportInput struct {
	// 1 to 100 characters; a dated default when omitted.
	Title *string  `json:"title,omitempty"`
	Text  *string  `json:"text,omitempty"`
	Tags  []string `json:"tags,omitempty"`
}
