package server

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"

	"github.com/99designs/gqlgen/graphql/playground"
)

// ideHandler serves the GraphQL IDE (development only) under a strict
// Content-Security-Policy: its inline script and style are allowed by
// their hashes, computed once from the page itself, and nothing else
// inline runs; code comes only from the CDN the page names, and requests
// go only back to this server.
func ideHandler() http.Handler {
	page := playground.Handler("healthmed GraphQL", "/graphql")
	rec := httptest.NewRecorder()
	page.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	csp := idePolicy(rec.Body.String())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		page.ServeHTTP(w, r)
	})
}

var (
	inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)
	inlineStyle  = regexp.MustCompile(`(?s)<style>(.*?)</style>`)
)

func idePolicy(html string) string {
	hashes := func(re *regexp.Regexp) string {
		var out []string
		for _, m := range re.FindAllStringSubmatch(html, -1) {
			sum := sha256.Sum256([]byte(m[1]))
			out = append(out, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
		}
		return strings.Join(out, " ")
	}
	const cdn = "https://cdn.jsdelivr.net"
	return strings.Join([]string{
		"default-src 'none'",
		"script-src " + hashes(inlineScript) + " " + cdn,
		"style-src " + hashes(inlineStyle) + " " + cdn,
		"img-src 'self' data: " + cdn,
		"font-src " + cdn,
		"connect-src 'self'",
		"frame-ancestors 'none'",
		"base-uri 'none'",
		"form-action 'none'",
	}, "; ")
}
