package envelope

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

func TestKeyringRotation(t *testing.T) {
	ctx := context.Background()
	oldKEK, newKEK, otherKEK := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32), bytes.Repeat([]byte{3}, 32)
	dataKey := bytes.Repeat([]byte{9}, KeySize)
	aad := []byte("file 42")

	before, _ := NewKeyring(oldKEK)
	wrappedOld, err := before.WrapKey(ctx, dataKey, aad)
	if err != nil {
		t.Fatal(err)
	}
	during, err := NewKeyring(newKEK, oldKEK)
	if err != nil {
		t.Fatal(err)
	}
	// Old wraps still open while the new KEK is current.
	if got, err := during.UnwrapKey(ctx, wrappedOld, aad); err != nil || !bytes.Equal(got, dataKey) {
		t.Fatalf("old wrap during the rotation: %v", err)
	}
	rewrapped, changed, err := during.Rewrap(ctx, wrappedOld, aad)
	if err != nil || !changed || bytes.Equal(rewrapped, wrappedOld) {
		t.Fatalf("rewrap: changed=%v err=%v", changed, err)
	}
	// A second pass leaves it alone.
	again, changed, err := during.Rewrap(ctx, rewrapped, aad)
	if err != nil || changed || !bytes.Equal(again, rewrapped) {
		t.Fatalf("rewrap of a current wrap: changed=%v err=%v", changed, err)
	}
	// Once the old KEK is retired, the re-wrapped key opens and the old
	// wrap no longer does.
	after, _ := NewKeyring(newKEK)
	if got, err := after.UnwrapKey(ctx, rewrapped, aad); err != nil || !bytes.Equal(got, dataKey) {
		t.Fatalf("rewrapped key after the rotation: %v", err)
	}
	if _, err := after.UnwrapKey(ctx, wrappedOld, aad); !errors.Is(err, ErrUnwrap) {
		t.Fatalf("old wrap after retiring its KEK: %v", err)
	}
	// Neither a foreign KEK nor another aad opens anything.
	foreign, _ := NewKeyring(otherKEK, oldKEK)
	if _, err := foreign.UnwrapKey(ctx, rewrapped, aad); !errors.Is(err, ErrUnwrap) {
		t.Fatalf("foreign keyring: %v", err)
	}
	if _, _, err := during.Rewrap(ctx, wrappedOld, []byte("file 43")); !errors.Is(err, ErrUnwrap) {
		t.Fatalf("rewrap under another aad: %v", err)
	}
	if _, err := NewKeyring(newKEK, []byte("short")); err == nil {
		t.Fatal("a previous KEK of the wrong size was accepted")
	}
}
