package bench

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/healthmed/healthmed/internal/apptest"
)

// BenchmarkRepeatedFieldRefused sends { __typename __typename ... } with N
// repetitions. The parser's token limit refuses it after the first
// thousand tokens, so the cost must stay flat as N grows: compare ns/op
// across the sub-benchmarks.
func BenchmarkRepeatedFieldRefused(b *testing.B) {
	env := apptest.New(b)
	for _, n := range []int{1_000, 5_000, 20_000} {
		body, _ := json.Marshal(map[string]string{"query": "{ " + strings.Repeat("__typename ", n) + "}"})
		if len(body) > 256<<10 {
			b.Fatalf("N=%d makes a %d-byte body, past the body limit: it would measure that instead", n, len(body))
		}
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				res, err := http.Post(env.Server.URL+"/graphql", "application/json", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				out, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if !bytes.Contains(out, []byte("GRAPHQL_PARSE_FAILED")) {
					b.Fatalf("N=%d not refused by the parser: %s", n, out)
				}
			}
		})
	}
}

// BenchmarkCursorBombRefused sends doctors(after:) a cursor that is a
// quarter megabyte of nested msgpack arrays, which the old decoder read
// recursively (about 64 MB of goroutine stack and 0.3 s of CPU each). The
// cursor is refused by its length before any decoding: the cost is the
// JSON body's.
func BenchmarkCursorBombRefused(b *testing.B) {
	env := apptest.New(b, apptest.Unthrottled())
	nested := append([]byte{0x82, 0xa1, 'i', 0x01, 0xa1, 'v'}, bytes.Repeat([]byte{0x91}, 180_000)...)
	cursor := base64.RawStdEncoding.EncodeToString(append(nested, 0xc0))
	body, _ := json.Marshal(map[string]any{"query": `query($a: Cursor) { doctors(after: $a) { totalCount } }`,
		"variables": map[string]any{"a": cursor}})
	b.SetBytes(int64(len(body)))
	for i := 0; i < b.N; i++ {
		res, err := http.Post(env.Server.URL+"/graphql", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !bytes.Contains(out, []byte(`"field":"after"`)) {
			b.Fatalf("cursor not refused: %s", out)
		}
	}
}
