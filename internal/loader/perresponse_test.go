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

func TestPerResponseExpectNeedsALoader(t *testing.T) {
	var fetched []int
	p := NewPerResponse(func(_ context.Context, keys []int) (map[int]int, error) {
		fetched = append(fetched, keys...)
		return nil, nil
	})
	p.Expect(context.Background(), []int{1}) // no loader: nothing to tell
	ctx := p.Install(context.Background())
	p.Expect(ctx, []int{1, 2})
	if _, ok, err := p.Load(ctx, 2); !ok || err != nil || len(fetched) != 2 {
		t.Fatalf("load of an expected key: ok=%v err=%v fetched %v", ok, err, fetched)
	}
}
