package ratelimit

import (
	"testing"
	"time"
)

func TestBucketAllowsBurstThenRate(t *testing.T) {
	now := time.Unix(0, 0)
	l := New(60, 3, func() time.Time { return now }) // one a second, bursts of 3
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait != time.Second {
		t.Fatalf("4th: ok=%v wait=%v, want refused for 1s", ok, wait)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("another key is limited too")
	}
	now = now.Add(time.Second)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("a second later a token should be back")
	}
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("only one token comes back per second")
	}
	now = now.Add(time.Hour)
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatal("refill exceeds the burst or never happens")
		}
	}
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("the bucket holds more than the burst")
	}
}

func TestDisabledAndBoundedMemory(t *testing.T) {
	if ok, _ := New(0, 1, nil).Allow("x"); !ok {
		t.Fatal("a zero rate must disable the limiter")
	}
	now := time.Unix(0, 0)
	l := New(60, 1, func() time.Time { return now })
	for i := 0; i < maxKeys+10; i++ {
		l.Allow(string(rune(i)) + "k")
	}
	if n := len(l.buckets); n > maxKeys {
		t.Fatalf("%d buckets kept, more than %d", n, maxKeys)
	}
}

func TestAllowNTakesAllOrNothing(t *testing.T) {
	now := time.Unix(0, 0)
	l := New(60, 10, func() time.Time { return now })
	if ok, _ := l.AllowN("a", 8); !ok {
		t.Fatal("8 of a burst of 10 refused")
	}
	if ok, wait := l.AllowN("a", 5); ok || wait != 3*time.Second {
		t.Fatalf("5 with 2 left: ok=%v wait=%v, want refused for 3s", ok, wait)
	}
	if ok, _ := l.AllowN("a", 2); !ok {
		t.Fatal("a refused AllowN took tokens")
	}
	if ok, wait := l.AllowN("b", 11); ok || wait <= 0 {
		t.Fatalf("more than the burst: ok=%v wait=%v", ok, wait)
	}
	if ok, _ := l.AllowN("b", 0); !ok {
		t.Fatal("nothing to take is always allowed")
	}
}
