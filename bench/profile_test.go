package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// HEALTHMED_BENCH_PROFILE names a directory: the load tests then give
// their server an operators' port (HEALTHMED_METRICS) and save a CPU
// profile of each measured run there, named after the run. The profile
// costs the server a little CPU, so figures taken with it are not the
// ones to report.
func profileDir() string { return os.Getenv("HEALTHMED_BENCH_PROFILE") }

// metricsSetting is the server's HEALTHMED_METRICS: off, unless the run
// is profiled, then on the loopback port given.
func metricsSetting(port string) string {
	if profileDir() == "" {
		return "HEALTHMED_METRICS=off"
	}
	return "HEALTHMED_METRICS=127.0.0.1:" + port
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// profileDuring starts a CPU profile of d on the server's operators'
// port; the returned func waits for it and saves it. Without
// HEALTHMED_BENCH_PROFILE it does nothing.
func profileDuring(ctx context.Context, t testing.TB, port, name string, d time.Duration) (wait func()) {
	dir := profileDir()
	if dir == "" {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		url := fmt.Sprintf("http://127.0.0.1:%s/debug/pprof/profile?seconds=%d", port, int(d.Seconds()))
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Logf("profile %s: %v", name, err)
			return
		}
		defer res.Body.Close()
		raw, err := io.ReadAll(res.Body)
		if err != nil || res.StatusCode != http.StatusOK {
			t.Logf("profile %s: %s %v", name, res.Status, err)
			return
		}
		file := filepath.Join(dir, unsafeName.ReplaceAllString(name, "_")+".pprof")
		if err := os.WriteFile(file, raw, 0o644); err != nil {
			t.Logf("profile %s: %v", name, err)
			return
		}
		t.Logf("CPU profile of %s: %s", name, file)
	}()
	return func() { <-done }
}
