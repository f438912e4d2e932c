package acctoken

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestSecretsParseAndDependOnKeyAndNonce(t *testing.T) {
	k1, k2 := Key("key one, thirty-two bytes or so!"), Key("key two, thirty-two bytes or so!")
	n := NewNonce()
	s := k1.Secret(n)
	if got, ok := Parse(s); !ok || got != s {
		t.Fatalf("Parse(%q) = %q, %v", s, got, ok)
	}
	if k1.Secret(n) != s {
		t.Fatal("the same key and nonce give another secret")
	}
	if k2.Secret(n) == s || k1.Secret(NewNonce()) == s {
		t.Fatal("another key or nonce gives the same secret")
	}
	if Digest(s) == s || strings.Contains(Digest(s), s) || len(Digest(s)) != 64 {
		t.Fatalf("digest %q", Digest(s))
	}
	for _, bad := range []string{"", s[:Len-1], s + "A", strings.Repeat("=", Len), s[:Len-1] + "/", s[:Len-1] + "+"} {
		if _, ok := Parse(bad); ok {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

// FuzzParse: whatever a stranger sends as a link's token, Parse never
// panics and accepts only the canonical spelling of 32 bytes.
func FuzzParse(f *testing.F) {
	f.Add(Key("k").Secret("n"))
	f.Add("")
	f.Add(strings.Repeat("A", Len))
	f.Add(strings.Repeat("_", Len))
	f.Add(strings.Repeat("\xff", Len))
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := Parse(s)
		if !ok {
			return
		}
		b, err := base64.RawURLEncoding.DecodeString(got)
		if err != nil || len(b) != 32 || base64.RawURLEncoding.EncodeToString(b) != s {
			t.Fatalf("accepted %q", s)
		}
	})
}
