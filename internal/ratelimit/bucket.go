// Package ratelimit holds per-key token buckets for the expensive GraphQL
// operations (search, booking). Buckets live in one process: with N
// replicas a client gets at most N times the rate, which is the intent of
// a per-replica guard against floods, not a quota.
package ratelimit

import (
	"math"
	"net/netip"
	"sync"
	"time"
)

// maxKeys bounds memory under a flood of distinct keys; past it, the
// oldest-refilled buckets are forgotten (a forgotten bucket is a full one,
// so the error is on the side of letting a request through).
const maxKeys = 100_000

// Limiter allows Rate requests a minute per key, with bursts of Burst.
type Limiter struct {
	rate  float64 // tokens per second
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// New returns a limiter of perMinute requests a minute per key, bursting
// to burst. perMinute <= 0 disables it.
func New(perMinute, burst int, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	if burst < 1 {
		burst = 1
	}
	return &Limiter{rate: float64(perMinute) / 60, burst: float64(burst), now: now, buckets: map[string]*bucket{}}
}

// Allow takes a token for key, or says how long until one is free.
func (l *Limiter) Allow(key string) (bool, time.Duration) { return l.AllowN(key, 1) }

// AllowN takes n tokens for key at once, or none and says how long until
// n are free. More than the burst is never allowed: the wait is then how
// long until the bucket is full.
func (l *Limiter) AllowN(key string, n int) (bool, time.Duration) {
	if l == nil || l.rate <= 0 || n <= 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxKeys {
			l.evict(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	if float64(n) <= b.tokens {
		b.tokens -= float64(n)
		return true, 0
	}
	want := math.Min(float64(n), l.burst)
	wait := time.Duration((want - b.tokens) / l.rate * float64(time.Second))
	return false, max(wait, time.Millisecond)
}

// evict drops the buckets that have refilled completely, or, if none
// has, an arbitrary tenth of them.
func (l *Limiter) evict(now time.Time) {
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.at) >= full {
			delete(l.buckets, k)
		}
	}
	for k := range l.buckets {
		if len(l.buckets) < maxKeys*9/10 {
			break
		}
		delete(l.buckets, k)
	}
}

// AddressKey groups IPv6 clients by /64, the block one subscriber usually
// holds, so rotating through it does not multiply a per-address limit.
// IPv4-mapped IPv6 counts as the IPv4 address; anything unparsable is used
// as given.
func AddressKey(s string) string {
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return s
	}
	ip = ip.Unmap()
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.String()
		}
	}
	return ip.String()
}
