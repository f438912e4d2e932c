package graph_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/config"
)

// nested builds a query whose deepest field sits at depth d: doctors,
// edges, node, then alternating nextFreeSlot/doctor hops, then id.
func nested(d int) string {
	hops := make([]string, d-4)
	for i := range hops {
		hops[i] = "nextFreeSlot"
		if i%2 == 1 {
			hops[i] = "doctor"
		}
	}
	inner := "id"
	for i := len(hops) - 1; i >= 0; i-- {
		inner = hops[i] + " { " + inner + " }"
	}
	return "{ doctors(first: 1) { edges { node { " + inner + " } } } }"
}

func aliases(n int) string {
	var b strings.Builder
	b.WriteString("{ ")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "a%d: viewer { __typename } ", i)
	}
	b.WriteString("}")
	return b.String()
}

// tokens builds a query of about n parser tokens: "{", n-2 names, "}".
func tokens(n int) string {
	return "{ " + strings.Repeat("__typename ", n-2) + "}"
}

func TestGraphQLLimitsJustUnderAndJustOver(t *testing.T) {
	env := apptest.New(t)
	env.Doctor("Dr. Deep", "Cardiology", -23.5, -46.6)
	// The token cases repeat one field a thousand times: the parser's
	// limit alone is measured there, the repeated-field bound lifted.
	repeats := apptest.New(t, apptest.WithConfig(func(c *config.Config) { c.MaxSameField = 2000 }))
	cases := []struct {
		name   string
		query  string
		reason string // "" when the query must run
		env    *apptest.Env
	}{
		{"depth 10", nested(10), "", nil},
		{"depth 11", nested(11), "DEPTH_LIMIT_EXCEEDED", nil},
		{"15 aliases", aliases(15), "", nil},
		{"16 aliases", aliases(16), "ALIAS_LIMIT_EXCEEDED", nil},
		{"1000 tokens", tokens(1000), "", repeats},
		{"1001 tokens", tokens(1001), "GRAPHQL_PARSE_FAILED", repeats},
		{"one field 30 times", tokens(32), "", nil},
		{"one field 31 times", tokens(33), "SAME_FIELD_LIMIT_EXCEEDED", nil},
		{"one field 31 times through fragments", `{ __typename ...A ...B } fragment A on Query { ` +
			strings.Repeat("__typename ", 15) + `} fragment B on Query { ` + strings.Repeat("__typename ", 15) + `}`, "SAME_FIELD_LIMIT_EXCEEDED", nil},
		{"one field 30 times through fragments", `{ ...A ...B } fragment A on Query { ` +
			strings.Repeat("__typename ", 15) + `} fragment B on Query { ` + strings.Repeat("__typename ", 15) + `}`, "", nil},
		// 100 doctors x 50 slots x fields: the page sizes multiply.
		{"complexity under", `{ doctors(first: 40) { edges { node { id slots { id startsAt } } } } }`, "", nil},
		{"complexity over", `{ doctors(first: 100) { edges { node { id slots { id startsAt } } } } }`, "COMPLEXITY_LIMIT_EXCEEDED", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := cmp.Or(tc.env, env)
			var r apptest.Response
			start := time.Now()
			sqls := env.StatementsDuring("doctors", func() { r = env.Do("", tc.query, nil) })
			took := time.Since(start)
			if tc.reason == "" {
				if len(r.Errors) > 0 {
					t.Fatalf("refused under the limit: %+v", r.Errors)
				}
				return
			}
			if r.Code() != "BAD_USER_INPUT" || r.Ext("reason") != tc.reason {
				t.Fatalf("code %q reason %q, want BAD_USER_INPUT %q (%+v)", r.Code(), r.Ext("reason"), tc.reason, r.Errors)
			}
			if len(sqls) > 0 {
				t.Fatalf("a refused query reached the database: %v", sqls)
			}
			t.Logf("refused in %v", took)
		})
	}
}

func TestProductionHidesTheSchema(t *testing.T) {
	prod := apptest.New(t)
	dev := apptest.New(t, apptest.WithConfig(func(c *config.Config) { c.Dev = true }))
	const introspect = `{ __schema { queryType { name } } }`
	if r := prod.Do("", introspect, nil); len(r.Errors) == 0 {
		t.Fatal("introspection answered in production")
	}
	var out struct {
		Schema struct{ QueryType struct{ Name string } } `json:"__schema"`
	}
	dev.Do("", introspect, nil).Decode(t, &out)
	if out.Schema.QueryType.Name != "Query" {
		t.Fatalf("dev introspection: %+v", out)
	}
	// No "Did you mean ...?" mapping the schema for a prober.
	r := prod.Do("", `{ doctorz { totalCount } }`, nil)
	if len(r.Errors) == 0 || strings.Contains(r.Errors[0].Message, "Did you mean") {
		t.Fatalf("misspelled field: %+v", r.Errors)
	}
	if r := dev.Do("", `{ doctorz { totalCount } }`, nil); !strings.Contains(r.Errors[0].Message, "Did you mean") {
		t.Fatalf("dev mode should help: %+v", r.Errors)
	}
	// The IDE is served in development only.
	for srv, want := range map[*apptest.Env]int{prod: 404, dev: 200} {
		res, err := http.Get(srv.Server.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Fatalf("IDE status %d, want %d", res.StatusCode, want)
		}
	}
}

func TestHTTPRefusesMutationsOverGETAndHugeBodies(t *testing.T) {
	env := apptest.New(t)
	q := url.Values{"query": {`mutation { loginDoctor(crm: "1/SP", password: "xxxxxxxxxxx") { token } }`}}
	res, err := http.Get(env.Server.URL + "/graphql?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode < 400 {
		t.Fatalf("mutation over GET answered %d", res.StatusCode)
	}
	// A query over GET is fine.
	res, err = http.Get(env.Server.URL + "/graphql?" + url.Values{"query": {"{ viewer { __typename } }"}}.Encode())
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("query over GET: %v %v", res, err)
	}
	res.Body.Close()

	big, _ := json.Marshal(map[string]any{"query": "{ viewer { __typename } }", "variables": map[string]string{"pad": strings.Repeat("x", 300<<10)}})
	res, err = http.Post(env.Server.URL+"/graphql", "application/json", bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	var out apptest.Response
	json.NewDecoder(res.Body).Decode(&out)
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge || out.Code() != "PAYLOAD_TOO_LARGE" {
		t.Fatalf("300 KiB body: status %d code %q", res.StatusCode, out.Code())
	}
}

func TestExpensiveOperationsAreRateLimited(t *testing.T) {
	env := apptest.New(t, apptest.WithConfig(func(c *config.Config) { c.SearchPerMinute, c.BookingPerMinute = 20, 3 }))
	// Search: bursts of 2 (a tenth of the minute's rate) per address.
	var codes []string
	for i := 0; i < 3; i++ {
		codes = append(codes, env.Do("", `{ doctors(first: 1) { edges { node { id } } } }`, nil).Code())
	}
	if fmt.Sprint(codes) != "[  RATE_LIMITED]" {
		t.Fatalf("search codes %q, want two answers then RATE_LIMITED", codes)
	}
	r := env.Do("", `{ doctors(first: 1) { edges { node { id } } } }`, nil)
	if r.Code() != "RATE_LIMITED" || r.Errors[0].Extensions["retryAfterSeconds"] == nil {
		t.Fatalf("no retry hint: %+v", r.Errors)
	}
	// Other operations are not affected.
	if r := env.Do("", `{ viewer { __typename } }`, nil); r.Code() != "" {
		t.Fatalf("viewer throttled: %q", r.Code())
	}
	// Booking: one per account, then refused, and the refusal books nothing.
	doc, _ := env.Doctor("Dr. Rate", "Cardiology", -23.5, -46.6)
	pat, _, _ := env.Patient("Quick")
	first := createSlot(t, env, doc, tomorrowAt(8), 30)
	second := createSlot(t, env, doc, tomorrowAt(9), 30)
	book(t, env, pat, first)
	if r := env.Do(pat, bookOp, map[string]any{"slot": second}); r.Code() != "RATE_LIMITED" {
		t.Fatalf("second booking within the burst: %q", r.Code())
	}
	n, err := env.DB.Client.Appointment.Query().Count(sysCtx())
	if err != nil || n != 1 {
		t.Fatalf("appointments %d (err %v), want 1", n, err)
	}
}

// TestSearchAndBookingLimitsCountAnIPv6ClientPerSlash64: one subscriber
// holds a whole /64; rotating through it must not multiply the
// per-address limits.
func TestSearchAndBookingLimitsCountAnIPv6ClientPerSlash64(t *testing.T) {
	env := apptest.New(t, apptest.WithConfig(func(c *config.Config) {
		// Bursts of two searches and of three bookings per address.
		c.SearchPerMinute, c.BookingPerMinute, c.TrustedProxies = 20, 3, []string{"127.0.0.1/32"}
	}))
	from := func(addr, token, query string) string {
		body, _ := json.Marshal(map[string]any{"query": query})
		req, _ := http.NewRequest(http.MethodPost, env.Server.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", addr)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := env.Server.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out apptest.Response
		json.NewDecoder(res.Body).Decode(&out)
		return out.Code()
	}
	const searchOp = `{ doctors(first: 1) { edges { node { id } } } }`
	var codes []string
	for _, addr := range []string{"2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"} {
		codes = append(codes, from(addr, "", searchOp))
	}
	if fmt.Sprint(codes) != "[  RATE_LIMITED]" {
		t.Fatalf("three searches from one /64: %q, want two answers then RATE_LIMITED", codes)
	}
	if code := from("2001:db8:1:3::1", "", searchOp); code != "" {
		t.Fatalf("the next /64 is another client: %q", code)
	}

	// Bookings by four accounts, each within its own allowance, from
	// four addresses of one /64: a slot that does not exist still counts.
	const bookOp = `mutation { bookAppointment(slotId: "999999") { id } }`
	// The accounts are registered first: a registration hashes a
	// password (most of a second on a loaded machine), and the address's
	// allowance refills by half a booking a second meanwhile.
	codes = nil
	addrs := []string{"2001:db8:5:6::1", "2001:db8:5:6::2", "2001:db8:5:6:abcd::3", "2001:db8:5:6::4"}
	bookers := make([]string, len(addrs))
	for i := range addrs {
		bookers[i], _, _ = env.Patient("Booker " + string(rune('A'+i)))
	}
	for i, addr := range addrs {
		codes = append(codes, from(addr, bookers[i], bookOp))
	}
	if fmt.Sprint(codes) != "[NOT_FOUND NOT_FOUND NOT_FOUND RATE_LIMITED]" {
		t.Fatalf("four bookings from one /64: %q, want three answers then RATE_LIMITED", codes)
	}
	pat, _, _ := env.Patient("Booker Z")
	if code := from("2001:db8:5:7::1", pat, bookOp); code != "NOT_FOUND" {
		t.Fatalf("a booking from the next /64: %q", code)
	}
}
