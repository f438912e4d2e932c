package graph_test

import (
	"bytes"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/fuzzbound"
)

// FuzzGraphQLBody posts arbitrary bytes as a JSON GraphQL request to the
// whole server: each is answered within a bound of time and allocation,
// never with a 5xx or INTERNAL, every error with a contract code and the
// request id, and nothing logged as a panic.
func FuzzGraphQLBody(f *testing.F) {
	for _, c := range httpMalformed(1 << 10) {
		if c.contentType == "application/json" && c.length >= 0 && c.method == http.MethodPost {
			b, _ := io.ReadAll(c.body)
			f.Add(b)
		}
	}
	f.Add([]byte(`{"query":"{ viewer { __typename } }"}`))
	f.Add([]byte(`{"query":"query ($first: Int) { doctors(first: $first) { totalCount } }","variables":{"first":3}}`))
	// The search's filters and orders: strangers' text reaches SQL there.
	f.Add([]byte(`{"query":"query ($n: String, $c: String, $s: String) { doctors(name: $n, city: $c, state: $s, mode: IN_PERSON, orderBy: RATING) { totalCount edges { cursor } } }","variables":{"n":"a%_\\\\","c":"São Paulo","s":"sp"}}`))
	f.Add([]byte(`{"query":"query ($a: Cursor) { doctors(orderBy: NEXT_FREE_SLOT, after: $a) { edges { cursor } } }","variables":{"a":"cgEAAAAAAAAQQA"}}`))
	f.Add([]byte(`{"query":"mutation { loginPatient(login: \"a@b.c\", password: \"wrong password\") { token } }"}`))
	f.Add([]byte(`{"query":"` + strings.ReplaceAll(strings.ReplaceAll(fragmentExplosion(30), "\n", " "), `"`, `\"`) + `"}`))
	f.Add([]byte(`{"query":"{ viewer { __typename } }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"x"}}}`))
	f.Add([]byte(`{"query":"{ node(id: \"zzz\") { id } }"}`))
	env := apptest.New(f, apptest.Unthrottled())
	f.Fuzz(func(t *testing.T, body []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		req, _ := http.NewRequest(http.MethodPost, env.Server.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		res, err := env.Server.Client().Do(req)
		if err != nil {
			t.Fatalf("%v", err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		checkRefusal(t, "fuzzed body", res.StatusCode, raw)
		if took > 5*time.Second {
			t.Fatalf("answered in %v: %q", took, body)
		}
		// The server's other goroutines allocate meanwhile too, so this is
		// an upper bound on the request's share, held to the request's.
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > fuzzbound.MaxAlloc {
			t.Fatalf("allocated %d MiB for a %d-byte body", alloc>>20, len(body))
		}
		checkNoPanic(t, env)
	})
}
