package profile

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/validate"
)

// text checks a free-text field shown on other people's screens: valid
// UTF-8, at most max characters, no control or formatting characters (a
// bidirectional override could reverse what is shown) except line breaks
// where multiline says so.
func text(field, v string, max int, required, multiline bool) (string, error) {
	v = strings.TrimSpace(v)
	if required && v == "" {
		return "", gqlerr.BadInput(field, "%s is required", field)
	}
	if !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool {
		if multiline && r == '\n' {
			return false
		}
		return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) && r != '\u200c' && r != '\u200d'
	}) {
		return "", gqlerr.BadInput(field, "%s must not contain control or formatting characters", field)
	}
	if utf8.RuneCountInString(v) > max {
		return "", gqlerr.BadInput(field, "%s must have at most %d characters", field, max)
	}
	return v, nil
}

// fieldError turns a validator's error into BAD_USER_INPUT on the input
// field at path.
func fieldError(path string, err error) error {
	if fe, ok := err.(*validate.FieldError); ok {
		return gqlerr.BadInput(path, "%s", fe.Message)
	}
	return gqlerr.BadInput(path, "%s", err.Error())
}
