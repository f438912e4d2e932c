package loader

import (
	"context"
	"sync/atomic"
	"testing"
)

func TestPerResponseLoadsWithinOneResponseOnly(t *testing.T) {
	var fetches atomic.Int32
	p := NewPerResponse(func(_ context.Context, keys []int) (map[int]string, error) {
		fetches.Add(1)
		out := map[int]string{}
		for _, k := range keys {
			out[k] = string(rune('a' + k))
		}
		return out, nil
	})
	if _, ok, _ := p.Load(context.Background(), 1); ok {
		t.Fatal("loaded without a loader installed")
	}
	ctx := p.Install(context.Background())
	for range 2 {
		if v, ok, err := p.Load(ctx, 1); !ok || err != nil || v != "b" {
			t.Fatalf("load: %q ok=%v err=%v", v, ok, err)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("%d fetches for one key in one response, want 1", n)
	}
	// Another response starts afresh.
	if v, _, _ := p.Load(p.Install(context.Background()), 1); v != "b" || fetches.Load() != 2 {
		t.Fatalf("second response: %q after %d fetches", v, fetches.Load())
	}
}
