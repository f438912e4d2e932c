package bench

import (
	"bytes"
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
