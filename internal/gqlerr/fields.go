package gqlerr

import "strings"

// Fields gathers the bad input fields of one form, so that a client
// learns every field to fix from one answer instead of one per attempt.
// Add the checks in the order the form shows its fields: the first bad
// one is the error's Field.
type Fields struct{ errs []*Error }

// Add records err when it names a bad input field and returns false;
// it returns true for nil. Any other error is the caller's to return
// (Err gives it back first).
func (f *Fields) Add(err error) bool {
	if err == nil {
		return true
	}
	e := Classify(err)
	if e == nil || e.Code != BadUserInput || e.Field == "" {
		f.errs = append(f.errs, &Error{Code: Internal, Message: err.Error(), cause: err})
		return false
	}
	f.errs = append(f.errs, e)
	return false
}

// Err is nil when every field was good; otherwise one BAD_USER_INPUT
// whose Field is the first bad field and whose Fields lists them all,
// its message theirs joined. An error that was not about a field is
// returned as it was.
func (f *Fields) Err() error {
	if len(f.errs) == 0 {
		return nil
	}
	for _, e := range f.errs {
		if e.cause != nil {
			return e.cause
		}
	}
	if len(f.errs) == 1 {
		return f.errs[0]
	}
	out := &Error{Code: BadUserInput, Field: f.errs[0].Field}
	msgs := make([]string, 0, len(f.errs))
	for _, e := range f.errs {
		out.Fields = append(out.Fields, e.Field)
		msgs = append(msgs, e.Message)
	}
	out.Message = strings.Join(msgs, "; ")
	return out
}

// AllFields is every bad field of e: Fields, or Field alone.
func (e *Error) AllFields() []string {
	if len(e.Fields) > 0 {
		return e.Fields
	}
	if e.Field != "" {
		return []string{e.Field}
	}
	return nil
}
