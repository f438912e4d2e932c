package fresh

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestReadStartsAfterItsCaller(t *testing.T) {
	var started atomic.Int64 // reads begun
	release := make(chan struct{})
	f := &Reads[int64]{Timeout: time.Second, Read: func(context.Context) (int64, error) {
		n := started.Add(1)
		<-release
		return n, nil
	}}
	// The first caller's read is held; callers arriving meanwhile must not
	// get it, since it started before they asked.
	first := make(chan int64)
	go func() { v, _ := f.Get(context.Background()); first <- v }()
	for started.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	var wg sync.WaitGroup
	got := make([]int64, 50)
	for i := range got {
		wg.Add(1)
		go func() { defer wg.Done(); got[i], _ = f.Get(context.Background()) }()
	}
	time.Sleep(20 * time.Millisecond) // let them all join the next round
	close(release)
	if v := <-first; v != 1 {
		t.Fatalf("first caller got read %d, want 1", v)
	}
	wg.Wait()
	for i, v := range got {
		if v != 2 {
			t.Fatalf("caller %d got read %d: want the one read after it asked (2)", i, v)
		}
	}
	if n := started.Load(); n != 2 {
		t.Fatalf("%d reads for 51 callers, want 2", n)
	}
}

func TestReadErrorsAndCancellation(t *testing.T) {
	boom := errors.New("boom")
	hold := make(chan struct{})
	f := &Reads[int]{Timeout: time.Second, Read: func(ctx context.Context) (int, error) {
		select {
		case <-hold:
			return 0, boom
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Get(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v", err)
	}
	close(hold)
	if _, err := f.Get(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("the read's error: %v, want boom", err)
	}
	// Rounds end: a read is running only while someone waits for one.
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.running {
		f.mu.Unlock()
		time.Sleep(time.Millisecond)
		f.mu.Lock()
	}
}

func TestReadTimesOutUnderNoCaller(t *testing.T) {
	f := &Reads[int]{Timeout: 10 * time.Millisecond, Read: func(ctx context.Context) (int, error) {
		<-ctx.Done()
		return 0, ctx.Err()
	}}
	if _, err := f.Get(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the read's own deadline", err)
	}
}
