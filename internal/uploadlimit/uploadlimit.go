// Package uploadlimit answers every multipart request whose body is over
// the limit with the contract's PAYLOAD_TOO_LARGE. gqlgen's multipart
// transport enforces a body limit of its own, but answers with a bare
// message (status 200 or 422, no extensions.code); this wrapper watches
// the body as the transport reads it and, once the limit is crossed,
// replaces whatever the transport answers with the contract's error.
package uploadlimit

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/healthmed/healthmed/internal/gqlerr"
)

// partsOverhead leaves room beside the file for the operations and map
// parts and the multipart framing. A file between the file limit and the
// body limit reaches the resolver, which refuses it with the same code.
const partsOverhead = 1 << 20

// BodyLimit is the largest multipart body for files of at most fileLimit
// bytes; give the same figure to the transport, so this wrapper, not the
// transport, is the one that notices.
func BodyLimit(fileLimit int64) int64 { return fileLimit + partsOverhead }

var errTooLarge = errors.New("request body too large")

// Handler wraps the GraphQL handler.
func Handler(next http.Handler, fileLimit int64) http.Handler {
	limit := BodyLimit(fileLimit)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if r.Method != http.MethodPost || mt != "multipart/form-data" {
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > limit {
			tooLarge(w, r)
			return
		}
		if r.ContentLength < 0 {
			// gqlgen keeps a body of "less than MaxMemory" bytes in memory,
			// and an unknown length (-1) counts as less: a chunked 25 MiB
			// upload would sit whole in memory. Claiming the largest size
			// allowed sends it to a temporary file like any large upload;
			// the body itself is still capped below.
			r.ContentLength = limit
		}
		body := &cappedBody{ReadCloser: r.Body, left: limit}
		r.Body = body
		next.ServeHTTP(&guardedWriter{ResponseWriter: w, r: r, body: body}, r)
	})
}

func tooLarge(w http.ResponseWriter, r *http.Request) {
	ext := map[string]any{"code": gqlerr.PayloadTooLarge}
	if id := gqlerr.RequestIDFunc(r.Context()); id != "" {
		ext["requestId"] = id
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	// The rest of the body is not worth reading.
	h.Set("Connection", "close")
	w.WriteHeader(http.StatusRequestEntityTooLarge)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": "the upload is too large", "extensions": ext}},
	})
}

// cappedBody fails the read that crosses the limit and remembers it.
type cappedBody struct {
	io.ReadCloser
	left     int64
	exceeded bool
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.exceeded {
		return 0, errTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	if int64(n) > b.left {
		n, b.left, b.exceeded = int(b.left), 0, true
		return n, errTooLarge
	}
	b.left -= int64(n)
	return n, err
}

// guardedWriter swaps the transport's answer for PAYLOAD_TOO_LARGE once
// the body has crossed the limit. The transport reads the body and writes
// its answer on the same goroutine, so the flag is settled by then.
type guardedWriter struct {
	http.ResponseWriter
	r        *http.Request
	body     *cappedBody
	replaced bool
}

func (g *guardedWriter) WriteHeader(code int) {
	if g.body.exceeded {
		g.replace()
		return
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *guardedWriter) Write(p []byte) (int, error) {
	if g.body.exceeded {
		g.replace()
		return len(p), nil
	}
	return g.ResponseWriter.Write(p)
}

func (g *guardedWriter) replace() {
	if !g.replaced {
		g.replaced = true
		tooLarge(g.ResponseWriter, g.r)
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (g *guardedWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }
