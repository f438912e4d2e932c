package multipart

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/healthmed/healthmed/internal/gqlerr"
)

// refusal is a request the transport answers itself.
type refusal struct {
	status int
	code   string
	field  string
	reason string
	msg    string
	// unread: the body is left unread, so the connection closes after.
	unread bool
}

func (e *refusal) Error() string { return e.msg }

func badInput(field, format string, args ...any) *refusal {
	return &refusal{status: http.StatusUnprocessableEntity, code: gqlerr.BadUserInput, field: field,
		msg: fmt.Sprintf(format, args...)}
}

var errTooLarge = &refusal{status: http.StatusRequestEntityTooLarge, code: gqlerr.PayloadTooLarge,
	msg: "request body too large"}

func (t Transport) refuse(w http.ResponseWriter, r *http.Request, err error) {
	var rf *refusal
	if !errors.As(err, &rf) {
		rf = badInput("", "malformed multipart body")
	}
	ext := map[string]any{"code": rf.code}
	if rf.field != "" {
		ext["field"] = rf.field
		ext["fields"] = []string{rf.field}
	}
	if rf.reason != "" {
		ext["reason"] = rf.reason
	}
	if t.RequestID != nil {
		ext["requestId"] = t.RequestID(r)
	}
	if rf.unread || rf.status == http.StatusRequestEntityTooLarge {
		// The rest of the body is not worth reading.
		w.Header().Set("Connection", "close")
	}
	w.WriteHeader(rf.status)
	_ = json.NewEncoder(w).Encode(&graphql.Response{Errors: gqlerror.List{{Message: rf.msg, Extensions: ext}}})
}

// budget bounds what is read of the body; the limit grows once the
// operation has been checked.
type budget struct {
	io.ReadCloser
	read, limit int64
	// over is set once the body was found to hold more than the limit.
	over bool
}

func (b *budget) Read(p []byte) (int, error) {
	if b.over {
		return 0, errTooLarge
	}
	if b.read >= b.limit {
		// At the limit: only the end of the body may follow.
		var one [1]byte
		n, err := b.ReadCloser.Read(one[:])
		if n == 0 && err != nil {
			return 0, err
		}
		b.over = true
		return 0, errTooLarge
	}
	if left := b.limit - b.read; int64(len(p)) > left {
		p = p[:left]
	}
	n, err := b.ReadCloser.Read(p)
	b.read += int64(n)
	return n, err
}
