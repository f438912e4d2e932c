package scalar

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/healthmed/healthmed/internal/gqlerr"
)

func isBadInput(err error) bool {
	var e *gqlerr.Error
	return errors.As(err, &e) && e.Code == gqlerr.BadUserInput
}

func TestIDAndTimeDecodingIsBounded(t *testing.T) {
	huge := strings.Repeat("9", 1<<20)
	for name, f := range map[string]func(){
		"id":   func() { _, _ = UnmarshalID(huge) },
		"time": func() { _, _ = UnmarshalTime(huge) },
	} {
		if b := bytesPerCall(f); b > 512 {
			t.Fatalf("refusing a megabyte %s allocated %d bytes", name, b)
		}
	}
}

func bytesPerCall(f func()) uint64 {
	const runs = 100
	f()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < runs; i++ {
		f()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / runs
}
