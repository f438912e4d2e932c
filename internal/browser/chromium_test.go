package browser

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds the browser, or skips the test when it is missing
// and not required.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HEALTHMED_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("HEALTHMED_REQUIRE_BROWSER") != "" {
		t.Fatal("no Chromium found (deploy/local/prepare-browser.sh installs it)")
	}
	t.Skip("no Chromium; set HEALTHMED_REQUIRE_BROWSER=1 to make this a failure")
	return ""
}

// tab is one page of a fresh headless Chromium that reaches nothing but
// loopback: every other host resolves to nothing and goes to a proxy
// that is not there. It records every URL the page requests, the
// exceptions it throws and the Content-Security-Policy violations it
// meets.
type tab struct {
	t   *testing.T
	ctx context.Context

	mu        sync.Mutex
	requested []string
	problems  []string
}

func newTab(t *testing.T) *tab {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"),
		chromedp.Flag("proxy-server", "http://127.0.0.1:9"),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	tb := &tab{t: t, ctx: ctx}
	// The first call starts the browser, for the life of ctx.
	if err := chromedp.Listen(ctx, tb.record); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	// Runs in every document before its own scripts, outside its policy.
	const watchCSP = `window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`
	tb.run(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: watchCSP})
		return err
	}))
	return tb
}

func (tb *tab) record(ev any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		tb.requested = append(tb.requested, ev.Request.URL)
	case *network.EventWebSocketCreated:
		tb.requested = append(tb.requested, ev.URL)
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		tb.problems = append(tb.problems, "exception: "+msg+" at "+d.URL)
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError {
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			tb.problems = append(tb.problems, "console.error: "+strings.Join(parts, " "))
		}
	}
}

func (tb *tab) run(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("%v\n%s", err, tb.report())
	}
}

// eval evaluates a JavaScript expression, awaiting it if it is a promise,
// and decodes its value.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("%s: %v\n%s", expr, err, tb.report())
	}
	return v
}

// waitFor polls a JavaScript condition until it holds.
func (tb *tab) waitFor(what, cond string, within time.Duration) {
	tb.t.Helper()
	deadline := time.Now().Add(within)
	for {
		if eval[bool](tb, "!!("+cond+")") {
			return
		}
		if time.Now().After(deadline) {
			tb.shot(strings.ReplaceAll(what, " ", "-"))
			tb.t.Fatalf("waited %s for %s\n%s", within, what, tb.report())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// shot keeps a screenshot of a failure in the test's output directory.
func (tb *tab) shot(name string) {
	if png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100)); err == nil {
		dir := os.Getenv("HEALTHMED_BROWSER_SHOTS")
		if dir == "" {
			dir = os.TempDir()
		}
		p := dir + "/" + strings.ReplaceAll(tb.t.Name(), "/", "_") + "-" + name + ".png"
		if os.WriteFile(p, png, 0o644) == nil {
			tb.t.Logf("screenshot: %s", p)
		}
	}
}

// offHost lists the requests that went anywhere but the given hosts.
func (tb *tab) offHost(hosts ...string) []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var out []string
	for _, r := range tb.requested {
		u, err := url.Parse(r)
		if err != nil || (u.Scheme != "data" && !contains(hosts, u.Host)) {
			out = append(out, r)
		}
	}
	return out
}

func (tb *tab) report() string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var reqs []string
	for _, r := range tb.requested {
		if len(r) > 120 {
			r = r[:120] + "…"
		}
		reqs = append(reqs, r)
	}
	return "requests:\n  " + strings.Join(reqs, "\n  ") + "\nproblems:\n  " + strings.Join(tb.problems, "\n  ")
}

// cspViolations reads what the page's policy refused.
func (tb *tab) cspViolations() []string {
	return eval[[]string](tb, "window.__csp || []")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
