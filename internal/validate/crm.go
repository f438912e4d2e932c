package validate

import (
	"strings"
)

// ufs are the 27 federative units, each with its own Conselho Regional de
// Medicina.
var ufs = map[string]bool{
	"AC": true, "AL": true, "AP": true, "AM": true, "BA": true, "CE": true,
	"DF": true, "ES": true, "GO": true, "MA": true, "MT": true, "MS": true,
	"MG": true, "PA": true, "PB": true, "PR": true, "PE": true, "PI": true,
	"RJ": true, "RN": true, "RS": true, "RO": true, "RR": true, "SC": true,
	"SP": true, "SE": true, "TO": true,
}

const maxCRMDigits = 8

// CRM checks a physician's registration with a Conselho Regional de
// Medicina and returns its number, without leading zeros, and its state
// code, upper-cased. It accepts the number and state in either order,
// separated by "/", "-" or spaces, with an optional "CRM" prefix, in any
// letter case: "123456/SP", "123456-SP", "123456 SP", "CRM-SP 123456",
// "CRM/SP 123456", "CRM SP-123456", "crm 123456/sp". The number has 1 to 8
// digits once leading zeros are dropped, and the state is one of the 27
// federative units. FormatCRM writes the canonical form.
func CRM(s string) (number string, state string, err error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "/") ||
		strings.HasSuffix(s, "-") || strings.HasSuffix(s, "/") {
		return "", "", fieldErr("crm", `CRM must be a number and a state, as in "123456/SP"`)
	}
	tokens := strings.FieldsFunc(s, func(r rune) bool {
		return r == '/' || r == '-' || r == ' ' || r == '\t'
	})
	if len(tokens) > 0 && tokens[0] == "CRM" {
		tokens = tokens[1:]
	}
	if len(tokens) == 0 {
		return "", "", fieldErr("crm", `CRM is required, as in "123456/SP"`)
	}
	for _, t := range tokens {
		switch {
		case isDigits(t):
			if number != "" {
				return "", "", fieldErr("crm", `CRM must be a number and a state, as in "123456/SP"`)
			}
			number = t
		case isLetters(t):
			if state != "" {
				return "", "", fieldErr("crm", `CRM must be a number and a state, as in "123456/SP"`)
			}
			state = t
		default:
			return "", "", fieldErr("crm", `CRM must be a number and a state, as in "123456/SP"`)
		}
	}
	if number == "" {
		return "", "", fieldErr("crm", "CRM number is missing")
	}
	if state == "" {
		return "", "", fieldErr("crm", `CRM state is missing, as in "123456/SP"`)
	}
	if !ufs[state] {
		return "", "", fieldErr("crm", "CRM state must be a Brazilian state code (UF)")
	}
	number = strings.TrimLeft(number, "0")
	if number == "" {
		return "", "", fieldErr("crm", "CRM number must not be zero")
	}
	if len(number) > maxCRMDigits {
		return "", "", fieldErr("crm", "CRM number must have at most 8 digits")
	}
	return number, state, nil
}

// FormatCRM writes a CRM in its canonical form, "123456/SP". It expects
// the number and state CRM returns; the state is upper-cased regardless.
func FormatCRM(number, state string) string {
	return number + "/" + strings.ToUpper(state)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return s != ""
}
