package ide

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// The embedded copies are the files fetch-assets.sh verified: a file
// edited by hand (or a sum not updated with a version bump) fails here.
func TestAssetsMatchTheirSums(t *testing.T) {
	f, err := os.Open("assets/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	listed := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("SHA256SUMS line %q", sc.Text())
		}
		b, err := os.ReadFile("assets/" + name)
		if err != nil {
			t.Fatal(err)
		}
		got := sha256.Sum256(b)
		if hex.EncodeToString(got[:]) != sum {
			t.Errorf("assets/%s does not match SHA256SUMS: run fetch-assets.sh", name)
		}
		listed++
	}
	h, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for name := range h.assets {
		if name != "ide.js" && name != "ide.css" && !sumsList(t, name) {
			t.Errorf("embedded %s is not in SHA256SUMS", name)
		}
	}
	if listed < 4 {
		t.Fatalf("SHA256SUMS lists %d files", listed)
	}
}

func sumsList(t *testing.T, name string) bool {
	b, err := os.ReadFile("assets/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(b), "  "+name+"\n")
}

func TestPageAndAssets(t *testing.T) {
	h, err := New()
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}
	page := get("/")
	body := page.Body.String()
	csp := page.Header().Get("Content-Security-Policy")
	if page.Code != 200 || !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "http") ||
		strings.Contains(csp, "unsafe") {
		t.Fatalf("page %d, policy %q", page.Code, csp)
	}
	if strings.Contains(body, "https://") || strings.Contains(body, "<script>") || strings.Contains(body, "<style>") {
		t.Fatalf("the page loads something from elsewhere or inline:\n%s", body)
	}
	for _, name := range []string{"react.production.min.js", "react-dom.production.min.js", "graphiql.min.js", "graphiql.min.css", "ide.js", "ide.css"} {
		if !strings.Contains(body, `"`+Prefix+name+`" integrity="sha256-`) {
			t.Errorf("the page does not load %s with its integrity", name)
		}
		rec := get(Prefix + name)
		if rec.Code != 200 || rec.Body.Len() == 0 || rec.Header().Get("ETag") == "" ||
			!strings.HasPrefix(rec.Header().Get("Content-Type"), map[bool]string{true: "text/javascript", false: "text/css"}[strings.HasSuffix(name, ".js")]) {
			t.Errorf("%s: %d %v", name, rec.Code, rec.Header())
		}
	}
	for _, path := range []string{Prefix + "SHA256SUMS", Prefix + "LICENSE.react", Prefix + "../ide.go", Prefix, "/other"} {
		if rec := get(path); rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d", path, rec.Code)
		}
	}
}
