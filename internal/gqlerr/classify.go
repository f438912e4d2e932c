package gqlerr

import (
	"errors"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/internal/auth"
	"github.com/healthmed/healthmed/internal/validate"
)

// constraintReasons names the database constraints whose violation is an
// expected conflict. Anything else stays an internal error.
var constraintReasons = map[string]string{
	"slots_no_overlap":                       ReasonSlotOverlap,
	"appointments_one_active_per_slot":       ReasonSlotTaken,
	"appointments_patient_no_overlap":        ReasonPatientBusy,
	"doctors_email_key":                      ReasonAlreadyRegistered,
	"doctor_crm_number_crm_state":            ReasonAlreadyRegistered,
	"patients_email_key":                     ReasonAlreadyRegistered,
	"patients_cpf_key":                       ReasonAlreadyRegistered,
	"appointment_patient_id_idempotency_key": ReasonSlotTaken,
	"feedback_appointment_id":                ReasonAlreadyRated,
	"specialties_code_key":                   ReasonAlreadyExists,
	"specialties_name_key":                   ReasonAlreadyExists,
	"specialties_name_en_key":                ReasonAlreadyExists,
	"specialties_name_folded":                ReasonAlreadyExists,
	"specialties_name_en_folded":             ReasonAlreadyExists,
	"waitlist_slot_held":                     ReasonSlotHeld,
	"waitlist_entries_one_waiting":           ReasonAlreadyWaitlisted,
}

// Classify turns a known error into its contract form, or returns nil.
func Classify(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, auth.ErrBusy) {
		return RateLimitedError(time.Second)
	}
	var fe *validate.FieldError
	if errors.As(err, &fe) {
		return &Error{Code: BadUserInput, Field: fe.Field, Message: fe.Error()}
	}
	// A privacy denial reads as absence, so a probe cannot tell a
	// forbidden id from a missing one.
	if errors.Is(err, privacy.Deny) || ent.IsNotFound(err) {
		return NotFoundError("object")
	}
	var ve *ent.ValidationError
	if errors.As(err, &ve) {
		return &Error{Code: BadUserInput, Field: lowerCamel(ve.Name), Message: "invalid value for " + lowerCamel(ve.Name)}
	}
	var pqe *pq.Error
	if errors.As(err, &pqe) {
		if reason, ok := constraintReasons[pqe.Constraint]; ok {
			return ConflictError(reason, conflictMessage(reason))
		}
		if pqe.Code == "40001" || pqe.Code == "40P01" {
			return ConflictError(ReasonRetry, "concurrent update, try again")
		}
	}
	return nil
}

func conflictMessage(reason string) string {
	switch reason {
	case ReasonSlotOverlap:
		return "slot overlaps another slot of this doctor"
	case ReasonSlotTaken:
		return "slot is already taken"
	case ReasonPatientBusy:
		return "you already have an appointment at that time"
	case ReasonAlreadyRegistered:
		return "already registered"
	case ReasonAlreadyRated:
		return "this appointment was already rated"
	case ReasonAlreadyExists:
		return "the catalogue has that specialty already"
	case ReasonSlotHeld:
		return "the slot is held for a patient on the waitlist"
	case ReasonAlreadyWaitlisted:
		return "you are already on this doctor's waitlist"
	}
	return "conflict"
}

func lowerCamel(snake string) string {
	parts := strings.Split(snake, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}
