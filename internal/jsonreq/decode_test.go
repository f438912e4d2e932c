package jsonreq

import (
	"errors"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"

	"github.com/healthmed/healthmed/internal/fuzzbound"
)

func TestDecode(t *testing.T) {
	deep := `{"query":"q","variables":{"c":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}}`
	for _, tc := range []struct {
		name string
		body string
		want error
	}{
		{"plain", `{"query":"{ viewer { id } }"}`, nil},
		{"variables and extensions", `{"query":"q","operationName":"Q","variables":{"n":1.5,"l":[{"a":"]]]"}]},"extensions":{"x":{}}}`, nil},
		{"null variables", `{"query":"q","variables":null}`, nil},
		{"trailing white space", "{\"query\":\"q\"} \n", nil},
		{"batch", ` [{"query":"q"}]`, ErrBatch},
		{"two values", `{"query":"q"}{"query":"q"}`, ErrMalformed},
		{"trailing garbage", `{"query":"q"} x`, ErrMalformed},
		{"variables a list", `{"query":"q","variables":[1]}`, ErrMalformed},
		{"extensions a string", `{"query":"q","extensions":"x"}`, ErrMalformed},
		{"not JSON", `query { viewer { id } }`, ErrMalformed},
		{"empty", ``, ErrMalformed},
		{"too deep", deep, ErrTooDeep},
		{"deep but only inside a string", `{"query":"` + strings.Repeat("[", 10*MaxDepth) + `"}`, nil},
		{"escaped quote keeps the string open", `{"query":"\"` + strings.Repeat("{", 10*MaxDepth) + `"}`, nil},
	} {
		var p graphql.RawParams
		if err := Decode([]byte(tc.body), &p); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestDecodeKeepsNumbersAsWritten(t *testing.T) {
	var p graphql.RawParams
	if err := Decode([]byte(`{"query":"q","variables":{"n":12345678901234567890}}`), &p); err != nil {
		t.Fatal(err)
	}
	if got := p.Variables["n"]; got == nil || got.(interface{ String() string }).String() != "12345678901234567890" {
		t.Fatalf("n = %#v", got)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"query":"q","variables":{"a":[1,{"b":"c"}]}}`))
	f.Add([]byte(`[[[[`))
	f.Add([]byte(`{"query":"\\"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p graphql.RawParams
		var err error
		fuzzbound.Within(t, "a body", func() { err = Decode(b, &p) })
		if err == nil && !DepthWithin(b, MaxDepth) {
			t.Fatal("accepted JSON nested past the bound")
		}
	})
}

func BenchmarkDecodeDeepBrackets(b *testing.B) {
	depth := 120_000
	body := []byte(`{"query":"q","variables":{"c":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}}`)
	for b.Loop() {
		var p graphql.RawParams
		_ = Decode(body, &p)
	}
}
