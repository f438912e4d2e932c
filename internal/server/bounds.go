package server

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/healthmed/healthmed/internal/gqlerr"
)

// requestBounds are the limits of one GraphQL request over HTTP.
type requestBounds struct {
	maxBody int64
	timeout time.Duration
	// body and upload bound the time to receive a JSON body and a
	// multipart upload's; after that the client is cut off.
	body, upload time.Duration
}

// bounded caps a GraphQL request's JSON body, the time to receive its
// body, and its running time. Multipart uploads are bounded by their
// transport (internal/multipart), which holds their operation to the same
// cap before reading files; they have their own time to arrive, and their
// running time starts once they have. A websocket lives as long as its
// subscriptions.
func bounded(next http.Handler, b requestBounds) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			next.ServeHTTP(w, r)
			return
		}
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		upload := mt == "multipart/form-data"
		if !upload && b.maxBody > 0 {
			if r.ContentLength > b.maxBody {
				writeGraphQLError(w, http.StatusRequestEntityTooLarge, gqlerr.PayloadTooLarge, "",
					"request body too large", RequestID(r.Context()))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, b.maxBody)
		}
		timeout, read := b.timeout, b.body
		if upload {
			read = b.upload
			if timeout > 0 {
				timeout += read
			}
		}
		if read > 0 && r.Body != nil && r.Body != http.NoBody {
			w = readDeadline(w, r, read)
		}
		if timeout > 0 {
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			defer cancel()
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

// readDeadline gives the client d to send the body, a byte at a time or
// not: net/http bounds the headers (ReadHeaderTimeout) but not the body,
// and a trickled body would hold the connection and its goroutine for as
// long as the client likes. (net/http lifts the deadline itself once the
// body is in, before it watches the connection for a client that leaves,
// so a long operation keeps its context.) A body cut off is answered 408,
// whatever the transport that was reading it made of the failed read.
func readDeadline(w http.ResponseWriter, r *http.Request, d time.Duration) http.ResponseWriter {
	if http.NewResponseController(w).SetReadDeadline(time.Now().Add(d)) != nil {
		return w // not a connection with deadlines
	}
	body := &deadlineBody{ReadCloser: r.Body}
	r.Body = body
	return &timeoutWriter{ResponseWriter: w, r: r, body: body}
}

type deadlineBody struct {
	io.ReadCloser
	timedOut bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		b.timedOut = true
	}
	return n, err
}

// timeoutWriter answers 408 in place of whatever the transport answers
// once the body has timed out. The transport reads the body and writes
// its answer on the same goroutine, so the flag is settled by then.
type timeoutWriter struct {
	http.ResponseWriter
	r        *http.Request
	body     *deadlineBody
	replaced bool
}

func (t *timeoutWriter) WriteHeader(code int) {
	if t.body.timedOut {
		t.replace()
		return
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *timeoutWriter) Write(p []byte) (int, error) {
	if t.body.timedOut {
		t.replace()
		return len(p), nil
	}
	return t.ResponseWriter.Write(p)
}

func (t *timeoutWriter) replace() {
	if !t.replaced {
		t.replaced = true
		refuse(t.ResponseWriter, t.r, http.StatusRequestTimeout, gqlerr.BadUserInput, reasonBodyTimeout,
			"the request body did not arrive in time")
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (t *timeoutWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }
