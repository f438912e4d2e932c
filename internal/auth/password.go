package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
)

// MinPasswordLength is the shortest password accepted at registration, in
// characters. Length is what actually resists guessing; composition rules
// are deliberately absent (NIST SP 800-63B).
const MinPasswordLength = 10

// OWASP Password Storage Cheat Sheet, argon2id: of its equally strong
// options (19 MiB × 2 passes … 7 MiB × 5 passes) the one with the least
// memory, so that one password check stays within the memory a single
// request may cost and a replica runs more of them at once in the same RAM;
// the CPU time is the same or less. Changing these only affects new
// hashes: every stored hash carries its own parameters.
const (
	argonMemoryKiB = 7168
	argonTime      = 5
	argonThreads   = 1
	argonSaltLen   = 16
	argonKeyLen    = 32
)

// Bounds on parameters read back from a stored hash, so a corrupted or
// planted row cannot make one login allocate gigabytes or spin for minutes.
const (
	maxArgonMemoryKiB = 1 << 20
	maxArgonTime      = 16
	maxArgonThreads   = 16
	minArgonSaltLen   = 8
	maxArgonSaltLen   = 64
	minArgonKeyLen    = 16
	maxArgonKeyLen    = 64
)

// phcB64 is the PHC string format's base64: standard alphabet, no padding.
// Strict rejects non-canonical encodings so one hash has one spelling.
var phcB64 = base64.RawStdEncoding.Strict()

type argonParams struct {
	memory  uint32
	time    uint32
	threads uint8
}

// HashPassword returns the argon2id hash of pw in PHC string format with a
// fresh random salt. Length policy is the caller's (see MinPasswordLength).
// It gives way to password checks, and fails with ErrBusy when too many
// hashes already wait (see argonGate).
func HashPassword(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: password salt: %w", err)
	}
	p := argonParams{memory: argonMemoryKiB, time: argonTime, threads: argonThreads}
	key, err := deriveKey(true, pw, salt, p, argonKeyLen)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads,
		phcB64.EncodeToString(salt), phcB64.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches hash. A malformed hash never
// matches; it is not an error the caller could act on differently.
func CheckPassword(hash, pw string) bool {
	p, salt, want, err := parsePHC(hash)
	if err != nil {
		return false
	}
	got, _ := deriveKey(false, pw, salt, p, uint32(len(want))) // a check is never refused
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash has the current parameters; its salt and key are zeros because
// it only has to cost the same, never to match.
var dummyHash = fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
	argon2.Version, argonMemoryKiB, argonTime, argonThreads,
	phcB64.EncodeToString(make([]byte, argonSaltLen)),
	phcB64.EncodeToString(make([]byte, argonKeyLen)))

// DummyCheck does the work of a CheckPassword against a hash with the
// current parameters and discards the result. A login for an account that
// does not exist calls it so that it takes as long as one for an account
// that does, and response time does not reveal which accounts exist.
func DummyCheck(pw string) {
	CheckPassword(dummyHash, pw)
}

// deriveKey runs one argon2id derivation through the gate (hash: a new
// password, which may be refused with ErrBusy; otherwise a check).
func deriveKey(hash bool, pw string, salt []byte, p argonParams, keyLen uint32) ([]byte, error) {
	if err := defaultGate.enter(hash); err != nil {
		return nil, err
	}
	start := time.Now()
	key := argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, keyLen)
	if hash {
		defaultGate.leaveHash(time.Since(start))
	} else if defaultGate.leave(false) {
		releaseDerivationMemory()
	}
	return key, nil
}

var errMalformedHash = errors.New("auth: malformed password hash")

// parsePHC reads "$argon2id$v=19$m=M,t=T,p=P$salt$key", accepting nothing
// looser than what HashPassword writes (fixed field order, v=19 only).
func parsePHC(s string) (argonParams, []byte, []byte, error) {
	var p argonParams
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, errMalformedHash
	}
	kv := strings.Split(f[3], ",")
	if len(kv) != 3 {
		return p, nil, nil, errMalformedHash
	}
	m, ok1 := phcUint(kv[0], "m=", maxArgonMemoryKiB)
	t, ok2 := phcUint(kv[1], "t=", maxArgonTime)
	th, ok3 := phcUint(kv[2], "p=", maxArgonThreads)
	if !ok1 || !ok2 || !ok3 || t < 1 || th < 1 || m < 8*th {
		return p, nil, nil, errMalformedHash
	}
	p = argonParams{memory: uint32(m), time: uint32(t), threads: uint8(th)}
	salt, err := phcB64.DecodeString(f[4])
	if err != nil || len(salt) < minArgonSaltLen || len(salt) > maxArgonSaltLen {
		return p, nil, nil, errMalformedHash
	}
	key, err := phcB64.DecodeString(f[5])
	if err != nil || len(key) < minArgonKeyLen || len(key) > maxArgonKeyLen {
		return p, nil, nil, errMalformedHash
	}
	return p, salt, key, nil
}

// phcUint parses "name=digits" with no sign, no leading zeros and no
// whitespace, at most limit.
func phcUint(s, name string, limit uint64) (uint64, bool) {
	v, ok := strings.CutPrefix(s, name)
	if !ok || v == "" || (len(v) > 1 && v[0] == '0') {
		return 0, false
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n > limit {
		return 0, false
	}
	return n, true
}
