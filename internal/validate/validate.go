// Package validate normalises and checks the identifiers users type in:
// CPF, CRM, e-mail addresses and time zones.
//
// Every check returns the canonical form of its input and, on failure, a
// *FieldError. Each validator presets a default field name; callers that
// expose the value under another name re-label it with Field.
package validate

// FieldError is a validation failure tied to one input field, so the API
// layer can report which field to fix.
type FieldError struct {
	// Field is the input field at fault, as the client named it.
	Field string
	// Message says what is wrong, in words fit for the client.
	Message string
}

// Error returns Message alone: the field travels separately, in Field.
func (e *FieldError) Error() string { return e.Message }

// Field labels err with field. It returns nil for a nil err, a relabelled
// copy of a *FieldError (the original is left alone), and any other error,
// including one that wraps a *FieldError, as a *FieldError carrying its
// full text.
func Field(field string, err error) error {
	if err == nil {
		return nil
	}
	if fe, ok := err.(*FieldError); ok && fe != nil {
		return &FieldError{Field: field, Message: fe.Message}
	}
	return &FieldError{Field: field, Message: err.Error()}
}

func fieldErr(field, msg string) error { return &FieldError{Field: field, Message: msg} }
