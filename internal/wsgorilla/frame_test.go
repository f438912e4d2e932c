package wsgorilla

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

func TestResponseFrameEncodesAsJSONMarshalDoes(t *testing.T) {
	yes := true
	data := json.RawMessage(`{"agendaUpdated":{"id":"QWdlbmRhRXZlbnQ6MQ==","kind":"SLOT_OPENED","at":"2026-12-05T09:00:00Z"}}`)
	cases := []struct {
		name  string
		id    string
		typ   string
		r     graphql.Response
		plain bool // written around the data (writeResultFrame)
	}{
		{"plain", "1", "next", graphql.Response{Data: data}, true},
		{"legacy", "a-uuid-4f1c", "data", graphql.Response{Data: data}, true},
		{"no id", "", "next", graphql.Response{Data: data}, true},
		{"null data", "1", "next", graphql.Response{Data: json.RawMessage(`null`)}, true},
		{"data with markup", "1", "next", graphql.Response{Data: json.RawMessage(`{"a":"<b>&"}`)}, true},
		{"id to escape", "\"<&\x01é", "next", graphql.Response{Data: data}, false},
		{"errors", "1", "next", graphql.Response{Data: data, Errors: gqlerror.List{{Message: "no"}}}, false},
		{"extensions", "1", "next", graphql.Response{Data: data, Extensions: map[string]any{"k": 1}}, false},
		{"deferred", "1", "next", graphql.Response{Data: data, Label: "l", HasNext: &yes}, false},
		{"no data", "1", "next", graphql.Response{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := frameOf(c.id, c.typ, &c.r)
			if err != nil {
				t.Fatal(err)
			}
			if plainFrame(c.id, c.typ, &c.r) != c.plain {
				t.Fatalf("plainFrame: %v, want %v", !c.plain, c.plain)
			}
			payload, err := json.Marshal(&c.r)
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(message{Type: c.typ, ID: c.id, Payload: payload})
			if err != nil {
				t.Fatal(err)
			}
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatalf("%s: %v", got, err)
			}
			_ = json.Unmarshal(want, &w)
			gb, _ := json.Marshal(g)
			wb, _ := json.Marshal(w)
			if string(gb) != string(wb) {
				t.Fatalf("frame\n%s\nwant the same as\n%s", got, want)
			}
		})
	}
}

// frameOf is the frame sendResponse writes for r.
func frameOf(id, typ string, r *graphql.Response) ([]byte, error) {
	if !plainFrame(id, typ, r) {
		return marshalledFrame(id, typ, r)
	}
	var b bytes.Buffer
	err := writeResultFrame(&b, id, typ, r.Data)
	return b.Bytes(), err
}

func TestResponseFrameRefusesDataThatIsNotJSON(t *testing.T) {
	if _, err := frameOf("1", "next", &graphql.Response{Data: json.RawMessage(`{"a":`)}); err == nil {
		t.Fatal("a frame was built around data that is not JSON")
	}
}

func BenchmarkResponseFrame(b *testing.B) {
	r := &graphql.Response{Data: json.RawMessage(`{"agendaUpdated":{"id":"QWdlbmRhRXZlbnQ6MTIzNDU=","kind":"SLOT_BOOKED","at":"2026-12-05T09:00:00.123456Z","slot":{"id":"U2xvdDoxMjM0NQ==","startsAt":"2026-12-07T13:00:00Z","endsAt":"2026-12-07T13:30:00Z"}}}`)}
	b.Run("built", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			if plainFrame("6f1c2b9e-4a1d-4c55-9a51-0d1f3c9e7a10", "next", r) {
				_ = writeResultFrame(&buf, "6f1c2b9e-4a1d-4c55-9a51-0d1f3c9e7a10", "next", r.Data)
			}
		}
	})
	b.Run("marshalled", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p, _ := json.Marshal(r)
			_, _ = json.Marshal(message{Type: "next", ID: "6f1c2b9e-4a1d-4c55-9a51-0d1f3c9e7a10", Payload: p})
		}
	})
}
