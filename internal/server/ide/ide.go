// Package ide serves the GraphQL IDE (GraphiQL) from the binary itself:
// its scripts and styles are embedded, copied from pinned npm packages by
// fetch-assets.sh, so the page works offline and behind networks that
// reach no CDN.
package ide

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed index.html ide.js ide.css assets/*.js assets/*.css
var files embed.FS

// Prefix is where the page loads its assets from.
const Prefix = "/ide/"

// policy lets the page run only the scripts and styles served here
// (nothing inline), load the fonts GraphiQL inlines in its stylesheet,
// and talk only back to this origin: 'self' covers ws: and wss: to the
// same host and port.
const policy = "default-src 'none'; script-src 'self'; style-src 'self'; font-src data:; " +
	"img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

type asset struct {
	body        []byte
	contentType string
	etag        string
}

// Handler serves the page at / and its assets under Prefix.
type Handler struct {
	page   []byte
	assets map[string]asset
}

// New loads the embedded files. It fails only if the binary was built
// from a broken tree.
func New() (*Handler, error) {
	h := &Handler{assets: map[string]asset{}}
	integrity := map[string]string{}
	add := func(name string) error {
		b, err := files.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		base := path.Base(name)
		ct := "text/css; charset=utf-8"
		if strings.HasSuffix(base, ".js") {
			ct = "text/javascript; charset=utf-8"
		}
		h.assets[base] = asset{body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
		integrity[strings.NewReplacer(".", "_", "-", "_").Replace(base)] = "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
		return nil
	}
	vendored, err := fs.Glob(files, "assets/*")
	if err != nil {
		return nil, err
	}
	for _, name := range append(vendored, "ide.js", "ide.css") {
		if err := add(name); err != nil {
			return nil, err
		}
	}
	tmpl, err := template.New("index.html").Option("missingkey=error").ParseFS(files, "index.html")
	if err != nil {
		return nil, err
	}
	var page bytes.Buffer
	if err := tmpl.Execute(&page, integrity); err != nil {
		return nil, fmt.Errorf("ide page: %w", err)
	}
	h.page = page.Bytes()
	return h, nil
}

// ServeHTTP serves GET / and GET Prefix+name.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", policy)
	if r.URL.Path == "/" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(h.page)
		return
	}
	a, ok := h.assets[strings.TrimPrefix(r.URL.Path, Prefix)]
	if !ok || !strings.HasPrefix(r.URL.Path, Prefix) {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", a.contentType)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", a.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}
