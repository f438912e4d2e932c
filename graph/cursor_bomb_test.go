package graph_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
)

// nestedMsgpackCursor is the cursor the old msgpack decoder read into an
// interface value, one stack frame per level: {"i": 1, "v": [[[...nil]]]}.
func nestedMsgpackCursor(depth int) string {
	raw := append([]byte{0x82, 0xa1, 'i', 0x01, 0xa1, 'v'}, bytes.Repeat([]byte{0x91}, depth)...)
	return base64.RawStdEncoding.EncodeToString(append(raw, 0xc0))
}

// assertNoErrorLogged fails when the server logged an error or a panic:
// a client's mistake is not the server's.
func assertNoErrorLogged(t *testing.T, env *apptest.Env) {
	t.Helper()
	logs := env.Logs.String()
	if strings.Contains(logs, `"level":"ERROR"`) || strings.Contains(strings.ToLower(logs), "panic") {
		t.Fatalf("the server logged an error:\n%s", logs)
	}
}

func TestCursorBombIsRefusedQuickly(t *testing.T) {
	env := apptest.New(t)
	env.Doctor("Dr. Stack", "Cardiology", -23.5, -46.6)
	const op = `query($a: Cursor) { doctors(first: 1, after: $a) { edges { cursor } } }`
	// As large as the JSON body limit allows: about 180,000 levels.
	cursor := nestedMsgpackCursor((env.Config.MaxBodyBytes - 512) * 3 / 4)
	start := time.Now()
	r := env.Do("", op, map[string]any{"a": cursor})
	took := time.Since(start)
	if r.Code() != "BAD_USER_INPUT" || r.Ext("field") != "after" || r.Ext("requestId") == "" {
		t.Fatalf("code %q field %q requestId %q, want BAD_USER_INPUT after with a request id (%+v)",
			r.Code(), r.Ext("field"), r.Ext("requestId"), r.Errors)
	}
	if took > time.Second {
		t.Fatalf("refusing the cursor took %v", took)
	}

	// A multipart request may carry operations far larger than a JSON body;
	// 2.5 million levels overflowed the 1 GB goroutine stack, which no
	// recover catches: the whole process died.
	ops, _ := json.Marshal(map[string]any{"query": op, "variables": map[string]any{"a": nestedMsgpackCursor(2_500_000)}})
	token, _, _ := env.Patient("Ana Stack")
	status, out := postParts(t, env, token, []part{{"operations", "", string(ops)}, {"map", "", `{}`}})
	errs, _ := out["errors"].([]any)
	if len(errs) == 0 {
		t.Fatalf("status %d, body %v", status, out)
	}
	ext, _ := errs[0].(map[string]any)["extensions"].(map[string]any)
	// Refusing the operations part for its size is as good an answer.
	if !(ext["code"] == "BAD_USER_INPUT" && ext["field"] == "after") && ext["code"] != "PAYLOAD_TOO_LARGE" {
		t.Fatalf("multipart bomb answered %v", ext)
	}

	// The server is still there and pages as before.
	var p struct {
		Doctors struct{ Edges []struct{ Cursor string } }
	}
	env.Do("", op, nil).Decode(t, &p)
	if len(p.Doctors.Edges) != 1 {
		t.Fatalf("after the bomb: %+v", p)
	}
	assertNoErrorLogged(t, env)
}
