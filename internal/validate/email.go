package validate

import (
	"net/mail"
	"strings"
)

// MaxEmailLen is the longest address accepted, in bytes (RFC 5321's path
// limit less the angle brackets).
const MaxEmailLen = 254

// Email checks an e-mail address and returns it trimmed and lower-cased.
// Only a bare address is accepted: no display name, angle brackets,
// comments or quoted local part. The domain must be a dotted host name,
// so intranet names and address literals are refused.
func Email(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", fieldErr("email", "e-mail address is required")
	}
	if len(s) > MaxEmailLen {
		return "", fieldErr("email", "e-mail address must be at most 254 characters")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", fieldErr("email", "e-mail address is not valid")
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 {
		return "", fieldErr("email", "e-mail address is not valid")
	}
	if !hostname(s[at+1:]) {
		return "", fieldErr("email", "e-mail address must have a full domain name")
	}
	return s, nil
}

// hostname reports whether d is a domain name of at least two labels, each
// of 1 to 63 bytes of letters, digits and inner hyphens (bytes beyond ASCII
// are let through for internationalised names).
func hostname(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c >= 0x80) {
				return false
			}
		}
	}
	return true
}
