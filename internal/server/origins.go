package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Origins decides which browser origins may call the API (CORS) and open
// a websocket: the configured ones; the server's own public origin, where
// the IDE lives; in development any port of this machine's loopback
// names, where front ends run their dev servers.
type Origins struct {
	exact    map[string]bool
	loopback bool
}

// maxOrigin bounds the Origin header this looks at; real ones are short.
const maxOrigin = 256

// NewOrigins checks the configured origins (scheme://host[:port]).
func NewOrigins(configured []string, publicURL string, dev bool) (*Origins, error) {
	o := &Origins{exact: map[string]bool{}, loopback: dev}
	for _, c := range configured {
		n, ok := normalOrigin(strings.TrimRight(strings.TrimSpace(c), "/"))
		if !ok {
			return nil, fmt.Errorf("allowed origin %q: want scheme://host[:port]", c)
		}
		o.exact[n] = true
	}
	if u, err := url.Parse(publicURL); err == nil && u.Scheme != "" && u.Host != "" {
		o.exact[strings.ToLower(u.Scheme+"://"+u.Host)] = true
	}
	return o, nil
}

// Allows reports whether a page of origin may use the API.
func (o *Origins) Allows(origin string) bool {
	if len(origin) > maxOrigin {
		return false
	}
	if o.exact[strings.ToLower(origin)] {
		return true
	}
	if !o.loopback {
		return false
	}
	n, ok := normalOrigin(origin)
	if !ok || (!strings.HasPrefix(n, "http://") && !strings.HasPrefix(n, "https://")) {
		return false
	}
	u, _ := url.Parse(n)
	switch u.Hostname() {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

// AllowsSocket is the websocket handshake's check. Browsers always send
// Origin there and a page cannot forge it, so it is what stops a foreign
// page from riding a visitor's session (cross-site websocket hijacking).
// A page served by this very host (the IDE, whatever name the browser
// used) may connect: its fetches are same-origin anyway. A request
// without Origin is no browser's, and could claim any origin.
func (o *Origins) AllowsSocket(r *http.Request) bool {
	values, present := r.Header["Origin"]
	if !present {
		return true
	}
	if len(values) != 1 {
		return false
	}
	if o.Allows(values[0]) {
		return true
	}
	n, ok := normalOrigin(values[0])
	return ok && strings.EqualFold(n[strings.Index(n, "://")+3:], r.Host)
}

// normalOrigin returns origin lower-cased if it is scheme://host[:port]
// with a numeric port, and nothing else. Any scheme: a hybrid mobile app's
// pages have origins like capacitor://localhost.
func normalOrigin(origin string) (string, bool) {
	if len(origin) > maxOrigin {
		return "", false
	}
	u, err := url.Parse(origin)
	if err != nil || u.Scheme == "" || u.Host == "" || u.User != nil || u.Opaque != "" ||
		u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", false
	}
	if p := u.Port(); p != "" {
		if len(p) > 5 || strings.Trim(p, "0123456789") != "" {
			return "", false
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return "", false
	}
	return strings.ToLower(origin), true
}
