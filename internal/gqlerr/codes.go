// Package gqlerr is the one place where errors become what a client sees:
// a stable extensions.code from the API contract, never a stack trace or SQL.
package gqlerr

import (
	"fmt"
	"time"
)

// Codes of the API contract.
const (
	Unauthenticated = "UNAUTHENTICATED"
	Forbidden       = "FORBIDDEN"
	BadUserInput    = "BAD_USER_INPUT"
	NotFound        = "NOT_FOUND"
	Conflict        = "CONFLICT"
	RateLimited     = "RATE_LIMITED"
	PayloadTooLarge = "PAYLOAD_TOO_LARGE"
	Internal        = "INTERNAL"
)

// Reasons that come with CONFLICT.
const (
	ReasonSlotTaken         = "SLOT_TAKEN"
	ReasonSlotOverlap       = "SLOT_OVERLAP"
	ReasonAlreadyRegistered = "ALREADY_REGISTERED"
	ReasonInvalidTransition = "INVALID_TRANSITION"
	ReasonAppointmentActive = "APPOINTMENT_ACTIVE"
	ReasonPatientBusy       = "PATIENT_OVERLAP"
	ReasonAlreadyRated      = "ALREADY_RATED"
	ReasonAlreadyLinked     = "ALREADY_LINKED"
	ReasonAlreadyVerified   = "ALREADY_VERIFIED"
	// ReasonEmailNotVerified comes with FORBIDDEN: what waits for the
	// account's e-mail to be verified (sharing records, linking an
	// external identity; anything at all for a registration still
	// waiting for its link).
	ReasonEmailNotVerified = "EMAIL_NOT_VERIFIED"
	ReasonAlreadyExists    = "ALREADY_EXISTS"
	ReasonAlreadyReplied   = "ALREADY_REPLIED"
	ReasonAlreadyHidden    = "ALREADY_HIDDEN"
	// ReasonSlotHeld: the slot is held for a patient on the doctor's
	// waitlist until their hold expires.
	ReasonSlotHeld          = "SLOT_HELD"
	ReasonAlreadyWaitlisted = "ALREADY_WAITLISTED"
	ReasonWaitlistFull      = "WAITLIST_LIMIT"
	// ReasonRefetch: a subscription cannot resume from where the client
	// left off (it missed too much); read the state again, then subscribe.
	ReasonRefetch = "REFETCH_REQUIRED"
	// ReasonRetry: a concurrent change won a race (a serialization
	// failure, a deadlock); the same mutation may simply be sent again.
	ReasonRetry = "RETRY"
)

// Reasons that come with UNAUTHENTICATED for a bearer token that was
// sent but is not good: whether refreshing it can help.
const (
	ReasonTokenExpired = "TOKEN_EXPIRED"
	ReasonTokenInvalid = "TOKEN_INVALID"
)

// Error is an expected failure with its contract code.
type Error struct {
	Code    string
	Message string
	// Field is the first bad input field; Fields lists every one when
	// there were several (see Fields).
	Field  string
	Fields []string
	Reason string
	// RetryAfter tells a rate-limited client when to come back.
	RetryAfter time.Duration

	cause error // an error that was not about a field, in Fields
}

func (e *Error) Error() string { return e.Message }

func BadInput(field, format string, args ...any) *Error {
	return &Error{Code: BadUserInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

func ConflictError(reason, msg string) *Error {
	return &Error{Code: Conflict, Reason: reason, Message: msg}
}

func NotFoundError(what string) *Error {
	return &Error{Code: NotFound, Message: what + " not found"}
}

func UnauthenticatedError() *Error {
	return &Error{Code: Unauthenticated, Message: "authentication required"}
}

func ForbiddenError(msg string) *Error { return &Error{Code: Forbidden, Message: msg} }

// EmailNotVerifiedError refuses what waits for a verified e-mail.
func EmailNotVerifiedError() *Error {
	return &Error{Code: Forbidden, Reason: ReasonEmailNotVerified,
		Message: "confirm your e-mail address first: follow the link we sent (resendVerificationEmail sends another)"}
}

func RateLimitedError(retryAfter time.Duration) *Error {
	return &Error{Code: RateLimited, Message: "too many attempts, try again later", RetryAfter: retryAfter}
}

func TooLarge(msg string) *Error { return &Error{Code: PayloadTooLarge, Message: msg} }
