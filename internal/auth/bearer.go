package auth

import "strings"

// BearerToken extracts the token from an Authorization header value
// ("Bearer <token>", scheme case-insensitive per RFC 7235). It reports
// false for any other scheme or an empty token.
func BearerToken(headerValue string) (string, bool) {
	const scheme = "bearer "
	if len(headerValue) < len(scheme) || !strings.EqualFold(headerValue[:len(scheme)], scheme) {
		return "", false
	}
	tok := strings.TrimSpace(headerValue[len(scheme):])
	if tok == "" || strings.ContainsAny(tok, " \t\r\n") {
		return "", false
	}
	return tok, true
}
