package validate

import (
	"strings"
	"time"

	// Embedded zone data, so that validation does not depend on the host
	// having /usr/share/zoneinfo; the host's database still wins when present.
	_ "time/tzdata"
)

// DefaultTimezone is the zone assumed when none is given.
const DefaultTimezone = "America/Sao_Paulo"

// Timezone checks an IANA time zone name such as "America/Manaus" and
// returns it trimmed. An empty (or all-blank) name means DefaultTimezone.
// "Local", and the "localtime" and "posixrules" links some hosts keep in
// their zone directory, are refused: they name the server's zone, not the
// user's. The empty name never reaches time.LoadLocation, where it would
// mean UTC. Names must be spelt exactly, letter case included.
func Timezone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return DefaultTimezone, nil
	}
	if !tzName(s) || s == "Local" || s == "localtime" || s == "posixrules" {
		return "", fieldErr("timezone", `time zone must be an IANA name such as "America/Sao_Paulo"`)
	}
	if _, err := time.LoadLocation(s); err != nil {
		return "", fieldErr("timezone", `unknown time zone; use an IANA name such as "America/Sao_Paulo"`)
	}
	return s, nil
}

// tzName reports whether s is spelt like an IANA zone name: ASCII letters,
// digits, "_", "+", "-" and "/" between non-empty parts, at most 64 bytes.
func tzName(s string) bool {
	if len(s) > 64 || s[0] == '/' || s[len(s)-1] == '/' || strings.Contains(s, "//") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '_' || c == '+' || c == '-' || c == '/':
		default:
			return false
		}
	}
	return true
}
