package server

import (
	"net/http"
	"testing"
)

func TestClientAddrTrustsOnlyConfiguredProxies(t *testing.T) {
	proxies, err := ParseTrustedProxies([]string{"10.0.0.0/8", "192.168.1.7"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, peer, xff, want string
	}{
		{"direct client", "203.0.113.9:5000", "", "203.0.113.9"},
		{"direct client lies", "203.0.113.9:5000", "1.2.3.4", "203.0.113.9"},
		{"through our proxy", "10.1.2.3:443", "198.51.100.7", "198.51.100.7"},
		{"spoofed first hop is ignored", "10.1.2.3:443", "1.2.3.4, 198.51.100.7", "198.51.100.7"},
		{"two of our proxies", "192.168.1.7:80", "198.51.100.7, 10.9.9.9", "198.51.100.7"},
		{"garbage hop", "10.1.2.3:443", "198.51.100.7, not-an-ip", "10.1.2.3"},
		{"no header from a proxy", "10.1.2.3:443", "", "10.1.2.3"},
		{"ipv6 client", "10.1.2.3:443", "2001:db8::1", "2001:db8::1"},
	}
	for _, tc := range cases {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tc.peer
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := proxies.ClientAddr(r); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	if _, err := ParseTrustedProxies([]string{"10.0.0.0/33"}); err == nil {
		t.Fatal("bad CIDR accepted")
	}
	var none TrustedProxies
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.1.2.3:443"
	r.Header.Set("X-Forwarded-For", "1.2.3.4")
	if got := none.ClientAddr(r); got != "10.1.2.3" {
		t.Fatalf("without trusted proxies the header must be ignored: %q", got)
	}
}
