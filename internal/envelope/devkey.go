package envelope

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ParseKey decodes a 32-byte key given in standard base64, the form the
// configuration takes it in (`openssl rand -base64 32`).
func ParseKey(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(k) != 32 {
		return nil, errors.New("want 32 bytes in standard base64")
	}
	return k, nil
}

// LoadOrCreateKeyFile returns the 32-byte key kept at path, creating it on
// first use. It is for development only, where no one configures keys but
// files encrypted yesterday must still open today. The file is written
// whole under a temporary name and then linked into place, so a second
// process starting at the same moment reads either nothing or the complete
// key, never a half-written one, and both end up with the same key.
func LoadOrCreateKeyFile(path string) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil {
		return ParseKey(string(b))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".key-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	// CreateTemp makes the file 0600 already.
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		b, rerr := os.ReadFile(path)
		if rerr != nil {
			return nil, rerr
		}
		return ParseKey(string(b))
	} else if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}
