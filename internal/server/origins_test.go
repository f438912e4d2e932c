package server

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestOriginsRefuseMalformedConfiguration(t *testing.T) {
	for _, o := range []string{"app.example.org", "https://app.example.org/path", "https://user@app.example.org", "*", "https://app.example.org:x"} {
		if _, err := NewOrigins([]string{o}, "", false); err == nil {
			t.Errorf("%q accepted", o)
		}
	}
	o, err := NewOrigins([]string{" https://App.Example.org/ ", "capacitor://localhost"}, "http://127.0.0.1:8080", false)
	if err != nil {
		t.Fatal(err)
	}
	for origin, want := range map[string]bool{"https://app.example.org": true, "capacitor://localhost": true,
		"http://127.0.0.1:8080": true, "http://127.0.0.1:8081": false, "http://localhost:5173": false} {
		if got := o.Allows(origin); got != want {
			t.Errorf("production, %s: %v", origin, got)
		}
	}
}

func TestSocketFromThisHost(t *testing.T) {
	o, _ := NewOrigins(nil, "https://api.example.org", false)
	for origin, want := range map[string]bool{"http://10.0.0.5:8080": true, "https://10.0.0.5:8080": true,
		"http://10.0.0.5:8081": false, "http://evil.example": false, "https://api.example.org": true} {
		r := httptest.NewRequest("GET", "http://10.0.0.5:8080/graphql", nil)
		r.Header.Set("Origin", origin)
		if got := o.AllowsSocket(r); got != want {
			t.Errorf("%s: %v", origin, got)
		}
	}
	r := httptest.NewRequest("GET", "http://10.0.0.5:8080/graphql", nil)
	r.Header["Origin"] = []string{"http://10.0.0.5:8080", "http://10.0.0.5:8080"}
	if o.AllowsSocket(r) {
		t.Error("two Origin headers accepted")
	}
}

// The Origin header is any stranger's input: whatever it holds, the check
// is cheap and lets in only what the policy names.
func FuzzOrigins(f *testing.F) {
	for _, s := range []string{"http://localhost:5173", "https://127.0.0.1", "http://[::1]:1", "null", "", "http://localhost:",
		"http://LOCALHOST:80", "http://localhost%2e:1", "http://127.0.0.1.evil.example", "https://app.example.org",
		"http://[::1%25eth0]:80", "ws://localhost:1", strings.Repeat("a", 300)} {
		f.Add(s)
	}
	dev, _ := NewOrigins([]string{"https://app.example.org"}, "http://healthmed.test", true)
	prod, _ := NewOrigins([]string{"https://app.example.org"}, "http://healthmed.test", false)
	f.Fuzz(func(t *testing.T, origin string) {
		lower := strings.ToLower(origin)
		named := lower == "https://app.example.org" || lower == "http://healthmed.test"
		if prod.Allows(origin) != named {
			t.Fatalf("production, %q: %v", origin, prod.Allows(origin))
		}
		if !dev.Allows(origin) || named {
			return
		}
		u, err := url.Parse(origin)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Path != "" || u.User != nil {
			t.Fatalf("dev allowed %q", origin)
		}
		switch strings.ToLower(u.Hostname()) {
		case "localhost", "127.0.0.1", "::1":
		default:
			t.Fatalf("dev allowed %q (host %q)", origin, u.Hostname())
		}
	})
}
