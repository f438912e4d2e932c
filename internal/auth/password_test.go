package auth

import (
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

func TestHashPasswordFormat(t *testing.T) {
	h, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	// 16-byte salt and 32-byte key in unpadded standard base64.
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=7168,t=5,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !re.MatchString(h) {
		t.Fatalf("hash %q does not have the expected PHC form", h)
	}
	h2, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
}

func TestCheckPassword(t *testing.T) {
	const pw = "Tr0ub4dor&3 senha forte ção"
	h, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		try  string
		want bool
	}{
		{"same password", pw, true},
		{"wrong password", "Tr0ub4dor&3 senha forte cao", false},
		{"empty", "", false},
		{"prefix", pw[:len(pw)-1], false},
		{"extra byte", pw + " ", false},
		{"case differs", strings.ToUpper(pw), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckPassword(h, tt.try); got != tt.want {
				t.Errorf("CheckPassword(%q) = %v, want %v", tt.try, got, tt.want)
			}
		})
	}
}

// A stored hash made with other parameters must still verify: CheckPassword
// has to read m, t, p and the key length from the string, not assume them.
func TestCheckPasswordReadsParameters(t *testing.T) {
	const pw = "an older password hash"
	salt := []byte("twenty-four byte salt!!!")
	key := argon2.IDKey([]byte(pw), salt, 1, 8192, 2, 16)
	h := "$argon2id$v=19$m=8192,t=1,p=2$" + phcB64.EncodeToString(salt) + "$" + phcB64.EncodeToString(key)

	tests := []struct {
		name string
		hash string
		try  string
		want bool
	}{
		{"own parameters", h, pw, true},
		{"wrong password", h, "not it", false},
		{"time altered", strings.Replace(h, "t=1", "t=2", 1), pw, false},
		{"memory altered", strings.Replace(h, "m=8192", "m=8200", 1), pw, false},
		{"threads altered", strings.Replace(h, "p=2", "p=1", 1), pw, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckPassword(tt.hash, tt.try); got != tt.want {
				t.Errorf("CheckPassword = %v, want %v", got, tt.want)
			}
		})
	}

	p, gotSalt, gotKey, err := parsePHC(h)
	if err != nil {
		t.Fatal(err)
	}
	if p != (argonParams{memory: 8192, time: 1, threads: 2}) || string(gotSalt) != string(salt) || string(gotKey) != string(key) {
		t.Errorf("parsePHC = %+v, %q, %x", p, gotSalt, gotKey)
	}
}

func TestCheckPasswordMalformedHash(t *testing.T) {
	const pw = "some password"
	good, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Split(good, "$") // "", alg, v, params, salt, key
	join := func(parts ...string) string { return strings.Join(parts, "$") }
	tests := []struct {
		name string
		hash string
	}{
		{"empty", ""},
		{"plain text", pw},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", join("", "argon2i", f[2], f[3], f[4], f[5])},
		{"version 16", join("", f[1], "v=16", f[3], f[4], f[5])},
		{"no version", join("", f[1], f[3], f[4], f[5])},
		{"params reordered", join("", f[1], f[2], "t=2,m=19456,p=1", f[4], f[5])},
		{"param missing", join("", f[1], f[2], "m=19456,t=2", f[4], f[5])},
		{"extra param", join("", f[1], f[2], f[3]+",x=1", f[4], f[5])},
		{"leading zero", join("", f[1], f[2], "m=019456,t=2,p=1", f[4], f[5])},
		{"signed number", join("", f[1], f[2], "m=+19456,t=2,p=1", f[4], f[5])},
		{"zero time", join("", f[1], f[2], "m=19456,t=0,p=1", f[4], f[5])},
		{"zero threads", join("", f[1], f[2], "m=19456,t=2,p=0", f[4], f[5])},
		{"memory too large", join("", f[1], f[2], "m=4194304,t=2,p=1", f[4], f[5])},
		{"memory below 8p", join("", f[1], f[2], "m=7,t=2,p=1", f[4], f[5])},
		{"time too large", join("", f[1], f[2], "m=19456,t=1000,p=1", f[4], f[5])},
		{"padded salt", join("", f[1], f[2], f[3], f[4]+"==", f[5])},
		{"url alphabet", join("", f[1], f[2], f[3], strings.NewReplacer("+", "-", "/", "_").Replace(f[4])+"-_", f[5])},
		{"salt too short", join("", f[1], f[2], f[3], "c2FsdA", f[5])},
		{"key too short", join("", f[1], f[2], f[3], f[4], "a2V5")},
		{"empty key", join("", f[1], f[2], f[3], f[4], "")},
		{"trailing field", good + "$"},
		{"no leading dollar", strings.TrimPrefix(good, "$")},
		{"whitespace", good + " "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, _, err := parsePHC(tt.hash); err == nil {
				t.Errorf("parsePHC(%q) accepted a malformed hash", tt.hash)
			}
			if CheckPassword(tt.hash, pw) {
				t.Errorf("CheckPassword(%q) = true for a malformed hash", tt.hash)
			}
		})
	}
	if !CheckPassword(good, pw) {
		t.Fatal("the well-formed hash the cases derive from does not verify")
	}
}

// DummyCheck costs what a real check costs only if its hash carries the
// current parameters and sizes; pin that.
func TestDummyCheckUsesCurrentParameters(t *testing.T) {
	p, salt, key, err := parsePHC(dummyHash)
	if err != nil {
		t.Fatalf("dummy hash does not parse: %v", err)
	}
	if p != (argonParams{memory: argonMemoryKiB, time: argonTime, threads: argonThreads}) {
		t.Errorf("dummy hash params = %+v", p)
	}
	if len(salt) != argonSaltLen || len(key) != argonKeyLen {
		t.Errorf("dummy hash salt/key lengths = %d/%d", len(salt), len(key))
	}
	for _, pw := range []string{"", "whatever", strings.Repeat("x", 256)} {
		DummyCheck(pw)
		if CheckPassword(dummyHash, pw) {
			t.Errorf("dummy hash matched %q", pw)
		}
	}
}

// Hashes written with the parameters used before (19 MiB, 2 passes) carry
// them and keep verifying after the defaults changed.
func TestCheckPasswordKeepsOlderParameters(t *testing.T) {
	salt := make([]byte, argonSaltLen)
	for i := range salt {
		salt[i] = byte(i)
	}
	old := argonParams{memory: 19456, time: 2, threads: 1}
	key, err := deriveKey(true, "correct horse battery staple", salt, old, argonKeyLen)
	if err != nil {
		t.Fatal(err)
	}
	h := "$argon2id$v=19$m=19456,t=2,p=1$" + phcB64.EncodeToString(salt) + "$" + phcB64.EncodeToString(key)
	if !CheckPassword(h, "correct horse battery staple") {
		t.Fatal("a hash with the older parameters no longer verifies")
	}
	if CheckPassword(h, "correct horse battery stapler") {
		t.Fatal("a wrong password matched an older hash")
	}
}
