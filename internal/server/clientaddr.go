package server

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// TrustedProxies are the networks of the load balancers in front of the
// server. Only a request that arrives from one of them may say, in
// X-Forwarded-For, whom it carries: anyone else could name any address and
// so dodge the per-address login and rate limits, or pin them on a victim.
type TrustedProxies []netip.Prefix

// ParseTrustedProxies reads a list of CIDRs or bare addresses.
func ParseTrustedProxies(list []string) (TrustedProxies, error) {
	var out TrustedProxies
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", s, err)
			}
			s = netip.PrefixFrom(a, a.BitLen()).String()
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", s, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func (t TrustedProxies) trusts(a netip.Addr) bool {
	for _, p := range t {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// ClientAddr is the address the request came from: the peer, or, when the
// peer is a trusted proxy, the nearest address in X-Forwarded-For that is
// not itself a trusted proxy (the right-most hop a proxy of ours added).
func (t TrustedProxies) ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || len(t) == 0 || !t.trusts(peer) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			// A malformed hop: stop trusting the chain here.
			return peer.Unmap().String()
		}
		if !t.trusts(a) {
			return a.Unmap().String()
		}
	}
	return peer.Unmap().String()
}

// ForwardedHTTPS says the request reached a trusted proxy over HTTPS: the
// peer is one of ours and the last X-Forwarded-Proto (the one it set) is
// "https". Anyone else's header is ignored.
func (t TrustedProxies) ForwardedHTTPS(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !t.trusts(peer) {
		return false
	}
	protos := strings.Split(strings.Join(r.Header.Values("X-Forwarded-Proto"), ","), ",")
	return strings.EqualFold(strings.TrimSpace(protos[len(protos)-1]), "https")
}
