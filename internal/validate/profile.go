package validate

import (
	"strings"
	"time"
)

// Phone checks an international number in E.164: "+", a country code
// that does not start with 0, and at most 15 digits in all. Spaces,
// hyphens, dots and parentheses people type between groups are dropped:
// "+55 (11) 91234-5678" is "+5511912345678".
func Phone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > 32 || !strings.HasPrefix(s, "+") {
		return "", fieldErr("phone", `phone must be an international number such as "+5511912345678"`)
	}
	var b strings.Builder
	b.WriteByte('+')
	for _, c := range s[1:] {
		switch {
		case c >= '0' && c <= '9':
			b.WriteRune(c)
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return "", fieldErr("phone", `phone must be an international number such as "+5511912345678"`)
		}
	}
	out := b.String()
	if digits := len(out) - 1; digits < 8 || digits > 15 || out[1] == '0' {
		return "", fieldErr("phone", "phone has a country code and 8 to 15 digits in all")
	}
	return out, nil
}

// PostalCode checks a CEP and writes it 00000-000; "01310100" and
// "01310-100" are the same code.
func PostalCode(s string) (string, error) {
	s = strings.TrimSpace(s)
	digits := strings.Replace(s, "-", "", 1)
	if len(digits) != 8 || (len(s) == 9 && s[5] != '-') {
		return "", fieldErr("postalCode", `postal code must be a CEP such as "01310-100"`)
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return "", fieldErr("postalCode", `postal code must be a CEP such as "01310-100"`)
		}
	}
	return digits[:5] + "-" + digits[5:], nil
}

// State checks a federative unit's code ("sp" is "SP").
func State(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if !ufs[s] {
		return "", fieldErr("state", "state must be a federative unit's two letters, such as SP")
	}
	return s, nil
}

// Language checks a language tag as browsers send them: a two- or
// three-letter language, optionally a region or script ("pt", "pt-BR",
// "zh-Hant"), written in the usual case.
func Language(s string) (string, error) {
	parts := strings.Split(strings.TrimSpace(s), "-")
	bad := fieldErr("language", `language must be a tag such as "pt-BR" or "en"`)
	if len(parts) > 2 || !letters(parts[0], 2, 3) {
		return "", bad
	}
	out := strings.ToLower(parts[0])
	if len(parts) == 2 {
		p := parts[1]
		switch {
		case letters(p, 2, 2):
			out += "-" + strings.ToUpper(p)
		case letters(p, 4, 4):
			out += "-" + strings.ToUpper(p[:1]) + strings.ToLower(p[1:])
		default:
			return "", bad
		}
	}
	return out, nil
}

func letters(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// BirthDate checks a date of birth written YYYY-MM-DD: a real day, not
// after today and at most 130 years before it.
func BirthDate(s string, today time.Time) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fieldErr("birthDate", `birth date must be a date such as "1980-05-31"`)
	}
	y, m, day := today.Date()
	end := time.Date(y, m, day, 0, 0, 0, 0, time.UTC)
	if d.After(end) || d.Before(end.AddDate(-130, 0, 0)) {
		return time.Time{}, fieldErr("birthDate", "birth date must be a past date within 130 years")
	}
	return d, nil
}
