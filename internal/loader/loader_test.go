package loader

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLoaderBatchesConcurrentLoads(t *testing.T) {
	var calls atomic.Int32
	var sizes []int
	var mu sync.Mutex
	l := New(func(_ context.Context, keys []int) (map[int]string, error) {
		calls.Add(1)
		mu.Lock()
		sizes = append(sizes, len(keys))
		mu.Unlock()
		out := map[int]string{}
		for _, k := range keys {
			if k%10 != 0 { // keys ending in 0 are "missing"
				out[k] = string(rune('a' + k%26))
			}
		}
		return out, nil
	}, 20*time.Millisecond, 25)
	var wg sync.WaitGroup
	got := make([]string, 60)
	for i := 0; i < 60; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			v, err := l.Load(context.Background(), i)
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		}(i)
	}
	wg.Wait()
	for i, v := range got {
		want := string(rune('a' + i%26))
		if i%10 == 0 {
			want = ""
		}
		if v != want {
			t.Fatalf("key %d = %q, want %q", i, v, want)
		}
	}
	if n := calls.Load(); n < 3 || n > 6 {
		t.Fatalf("60 keys with batches of 25 took %d fetches (sizes %v)", n, sizes)
	}
	for _, s := range sizes {
		if s > 25 {
			t.Fatalf("batch of %d exceeds the limit", s)
		}
	}
	// A repeated key is served from the request's cache.
	before := calls.Load()
	if _, err := l.Load(context.Background(), 7); err != nil || calls.Load() != before {
		t.Fatalf("cached load refetched (err %v)", err)
	}
}

func TestLoaderPropagatesErrorsAndCancellation(t *testing.T) {
	boom := errors.New("boom")
	l := New(func(context.Context, []int) (map[int]int, error) { return nil, boom }, time.Millisecond, 10)
	if _, err := l.Load(context.Background(), 1); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	slow := New(func(ctx context.Context, keys []int) (map[int]int, error) {
		time.Sleep(200 * time.Millisecond)
		return nil, nil
	}, time.Millisecond, 10)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := slow.Load(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled load err = %v", err)
	}
}

func TestPrimeAnswersWithoutFetching(t *testing.T) {
	var calls atomic.Int32
	l := New(func(_ context.Context, keys []int) (map[int]string, error) {
		calls.Add(1)
		return map[int]string{keys[0]: "fetched"}, nil
	}, time.Hour, 10)
	l.Prime([]int{1, 2}, map[int]string{1: "one"}, nil)
	for k, want := range map[int]string{1: "one", 2: ""} {
		// A wait of an hour would time the test out: primed keys answer at once.
		if v, err := l.Load(context.Background(), k); err != nil || v != want {
			t.Fatalf("key %d = %q, %v; want %q", k, v, err, want)
		}
	}
	l.Prime([]int{1}, map[int]string{1: "again"}, nil)
	if v, _ := l.Load(context.Background(), 1); v != "one" {
		t.Fatalf("a second prime replaced the first answer: %q", v)
	}
	failed := errors.New("down")
	l.Prime([]int{3}, nil, failed)
	if _, err := l.Load(context.Background(), 3); !errors.Is(err, failed) {
		t.Fatalf("primed error = %v", err)
	}
	if calls.Load() != 0 {
		t.Fatalf("primed keys were fetched %d times", calls.Load())
	}
}

func TestExpectedKeysAreFetchedTogetherAtOnce(t *testing.T) {
	var mu sync.Mutex
	var batches [][]int
	l := New(func(_ context.Context, keys []int) (map[int]int, error) {
		mu.Lock()
		batches = append(batches, append([]int(nil), keys...))
		mu.Unlock()
		out := map[int]int{}
		for _, k := range keys {
			out[k] = k * 10
		}
		return out, nil
	}, time.Hour, 3)
	l.Expect([]int{1, 2, 3, 4, 2})
	l.Expect([]int{5})
	// A window of an hour would time the test out: an expected key does
	// not wait for it. The items load one after another, as on a machine
	// too busy to run them together.
	for _, k := range []int{2, 1, 3, 4, 5} {
		if v, err := l.Load(context.Background(), k); err != nil || v != k*10 {
			t.Fatalf("key %d = %d, %v", k, v, err)
		}
	}
	want := "[[2 1 3] [4 5]]"
	if got := fmt.Sprint(batches); got != want {
		t.Fatalf("batches %s, want %s (the key asked first, then the list's order, at most 3)", got, want)
	}
	// A key already asked for keeps its answer and is not named again.
	l.Expect([]int{1, 6})
	if v, _ := l.Load(context.Background(), 6); v != 60 || fmt.Sprint(batches[2:]) != "[[6]]" {
		t.Fatalf("key 6 = %d after batches %v", v, batches)
	}
}

func TestExpectedLoadsRaceIntoOneFetch(t *testing.T) {
	var calls atomic.Int32
	l := New(func(_ context.Context, keys []int) (map[int]int, error) {
		calls.Add(1)
		return map[int]int{}, nil
	}, time.Hour, 200)
	keys := make([]int, 100)
	for i := range keys {
		keys[i] = i
	}
	l.Expect(keys)
	var wg sync.WaitGroup
	for _, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := l.Load(context.Background(), k); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d fetches for 100 expected keys, want 1", n)
	}
}
