package graph_test

import (
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/healthmed/healthmed/internal/apptest"
)

// The operations and map parts are held to the JSON body cap: a huge
// variables list is refused before it is decoded, and costs the server
// little memory.
func TestUploadOperationsAndMapAreCapped(t *testing.T) {
	env := apptest.New(t)
	alice, _, _ := env.Patient("Alice")
	tags := make([]string, 1_500_000) // ~6 MB of JSON
	for i := range tags {
		tags[i] = "t"
	}
	hugeOps, _ := json.Marshal(map[string]any{"query": uploadOp, "variables": map[string]any{
		"file": nil, "in": map[string]any{"title": "Exame", "category": "EXAM", "tags": tags}}})
	ops, _ := json.Marshal(map[string]any{"query": uploadOp, "variables": map[string]any{
		"file": nil, "in": fileInput("Exame", "EXAM")}})
	hugeMap := `{"0":["variables.file"],"x":["` + strings.Repeat("variables.a.", 600_000) + `"]}`
	file := part{"0", "a.pdf", string(pdf(100))}
	for name, parts := range map[string][]part{
		"operations": {{"operations", "", string(hugeOps)}, {"map", "", `{"0":["variables.file"]}`}, file},
		"map":        {{"operations", "", string(ops)}, {"map", "", hugeMap}, file},
	} {
		t.Run(name, func(t *testing.T) {
			body, contentType := multipartBody(t, parts)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			status, out := postBody(t, env, alice, body, contentType)
			runtime.ReadMemStats(&after)
			grew := after.TotalAlloc - before.TotalAlloc
			t.Logf("a %d KiB body: %d KiB allocated", len(body)>>10, grew>>10)
			if code := firstCode(out); status != http.StatusRequestEntityTooLarge || code != "PAYLOAD_TOO_LARGE" {
				t.Fatalf("status %d code %q: %v", status, code, out)
			}
			// The body itself is built before the measurement; what the
			// server allocates for it must stay near the JSON cap.
			if grew > 8<<20 {
				t.Fatalf("refusing a %d MB body allocated %d MB", len(body)>>20, grew>>20)
			}
		})
	}
	if n := storedObjects(t, env); n != 0 {
		t.Fatalf("%d files stored", n)
	}
}

// An anonymous upload is refused before the server reads the file: the
// client gets its answer while most of the file is still unsent.
func TestAnonymousUploadIsRefusedBeforeTheFileIsRead(t *testing.T) {
	env := apptest.New(t)
	const size = 20 << 20
	var sent atomic.Int64
	content := &countingReader{r: io.LimitReader(zeros{}, size), n: &sent}
	r := env.UploadStream("", uploadOp, fileInput("Exame", "EXAM"), "big.pdf", content)
	if r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("code %q: %+v", r.Code(), r.Errors)
	}
	// Socket buffers hold a few MiB at most; before the check, the whole
	// file was read and sealed to disk first.
	if n := sent.Load(); n > 8<<20 {
		t.Fatalf("the server read %d MiB of an anonymous upload before refusing it", n>>20)
	}
}

// Files go only where the operation takes a file, and the map names every
// such place.
func TestUploadMapMustNameExactlyTheUploadVariables(t *testing.T) {
	env := apptest.New(t)
	alice, _, _ := env.Patient("Alice")
	opsWith := func(file any) string {
		b, _ := json.Marshal(map[string]any{"query": uploadOp, "variables": map[string]any{
			"file": file, "in": map[string]any{"title": nil, "category": "EXAM", "tags": []string{}}}})
		return string(b)
	}
	file := part{"0", "a.pdf", string(pdf(100))}
	cases := map[string][]part{
		"a file in a String variable": {{"operations", "", opsWith(nil)},
			{"map", "", `{"0":["variables.file"],"1":["variables.in.title"]}`}, file, {"1", "b.pdf", string(pdf(100))}},
		"the Upload variable left out of map": {{"operations", "", opsWith("not a file")},
			{"map", "", `{"0":["variables.in.title"]}`}, file},
		"a path into a list that is not there": {{"operations", "", opsWith(nil)},
			{"map", "", `{"0":["variables.in.tags.5"]}`}, file},
	}
	for name, parts := range cases {
		t.Run(name, func(t *testing.T) {
			// Refused before the file is read, by gqlgen's validation of
			// the variables or by the check of the map.
			_, out := postParts(t, env, alice, parts)
			if code := firstCode(out); code != "BAD_USER_INPUT" {
				t.Fatalf("code %q: %v", code, out)
			}
		})
	}
	if n := storedObjects(t, env); n != 0 {
		t.Fatalf("%d files stored", n)
	}
}

func TestUploadFileCountIsCapped(t *testing.T) {
	env := apptest.New(t)
	alice, _, _ := env.Patient("Alice")
	ops, _ := json.Marshal(map[string]any{"query": uploadOp, "variables": map[string]any{
		"file": nil, "in": fileInput("Exame", "EXAM")}})
	parts := []part{{"operations", "", string(ops)}, {"map", "", `{"0":["variables.file"],"1":["variables.a"],"2":["variables.b"],"3":["variables.c"],"4":["variables.d"]}`}}
	for _, k := range []string{"0", "1", "2", "3", "4"} {
		parts = append(parts, part{k, k + ".pdf", string(pdf(100))})
	}
	status, out := postParts(t, env, alice, parts)
	if code := firstCode(out); status != http.StatusRequestEntityTooLarge || code != "PAYLOAD_TOO_LARGE" {
		t.Fatalf("status %d code %q: %v", status, code, out)
	}
}

func firstCode(out map[string]any) string {
	errs, _ := out["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	ext, _ := errs[0].(map[string]any)["extensions"].(map[string]any)
	code, _ := ext["code"].(string)
	return code
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
