package multipart

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/healthmed/healthmed/internal/fuzzbound"
)

const fuzzBoundary = "fuzzboundary"

func fuzzBody(parts ...testPart) []byte {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.SetBoundary(fuzzBoundary)
	for _, p := range parts {
		var pw io.Writer
		if p.file != "" {
			pw, _ = w.CreateFormFile(p.name, p.file)
		} else {
			pw, _ = w.CreateFormField(p.name)
		}
		_, _ = io.WriteString(pw, p.body)
	}
	_ = w.Close()
	return buf.Bytes()
}

// FuzzTransport sends arbitrary multipart bodies from a signed-in caller.
// Whatever comes in, the transport answers JSON (the helper fails the test
// otherwise), never panics, reads no more than the body limit, and never
// lets a placeholder reach an operation in place of a file.
func FuzzTransport(f *testing.F) {
	file := testPart{"0", "a.pdf", strings.Repeat("%PDF-", 30)}
	f.Add(fuzzBody(ops(oneOp, `{"file":null}`), testPart{"map", "", `{"0":["variables.file"]}`}, file))
	f.Add(fuzzBody(ops(manyOp, `{"files":[null,null]}`),
		testPart{"map", "", `{"0":["variables.files.0","variables.files.1"]}`}, file))
	f.Add(fuzzBody(ops(nestedOp, `{"in":{"file":null}}`), testPart{"map", "", `{"0":["variables.in.file"]}`}, file))
	f.Add(fuzzBody(ops(manyOp, `{"files":[[null]]}`), testPart{"map", "", `{"0":["variables.files.0.0"]}`}, file))
	f.Add(fuzzBody(ops(oneOp, `{"file":null}`), testPart{"map", "", `{"0":["variables.file"]}`}))
	f.Add(fuzzBody(ops(oneOp, `{"file":null}`), testPart{"map", "", `{"0":["variables.file"]}`}, file,
		testPart{"1", "b.pdf", "x"}))
	f.Add(fuzzBody(testPart{"map", "", `{}`}, ops(oneOp, `{}`)))
	f.Add(fuzzBody(ops(oneOp, `[]`), testPart{"map", "", `[]`}))
	f.Add([]byte("--" + fuzzBoundary + "\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		tr := newTransport(t)
		tr.MaxBodyBytes = 64 << 10
		var r result
		fuzzbound.Within(t, "a multipart body", func() {
			r = serve(t, tr, true, "multipart/form-data; boundary="+fuzzBoundary, bytes.NewReader(data))
		})
		if r.read > tr.MaxBodyBytes+1 {
			t.Fatalf("read %d bytes, the limit is %d", r.read, tr.MaxBodyBytes)
		}
		if r.status == http.StatusOK {
			for path, content := range r.files {
				if content == "<placeholder>" {
					t.Fatalf("%s reached the operation without its file", path)
				}
			}
		}
	})
}
