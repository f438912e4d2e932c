package graph_test

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/scalar"
)

// floatCursor is a well-formed distance cursor carrying any float, NaN and
// infinities included, which the server itself never writes.
func floatCursor(f float64) string {
	b := binary.BigEndian.AppendUint64([]byte{byte(scalar.KindFloat), 1}, math.Float64bits(f))
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestMalformedScalarsAreBadUserInput(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled())
	doc, _ := env.Doctor("Dr. Scalar", "Cardiology", -23.5, -46.6)
	pat, _, _ := env.Patient("Ana Scalar")
	timeCursor := scalar.EncodeCursor(scalar.Cursor{ID: 1, Value: time.Now()})
	idCursor := scalar.EncodeCursor(scalar.Cursor{ID: 1})
	distanceCursor := scalar.EncodeCursor(scalar.Cursor{ID: 1, Value: 1500.5})
	const (
		doctorsOp = `query($a: Cursor) { doctors(after: $a) { totalCount } }`
		nearOp    = `query($a: Cursor) { doctors(near: {lat: -23.5, lng: -46.6}, withinKm: 10, after: $a) { totalCount } }`
		soon      = "2031-01-01T10:00:00Z"
	)
	cases := []struct {
		name, token, query string
		vars               map[string]any
		field              string
	}{
		{"cursor: garbage", "", doctorsOp, map[string]any{"a": "not a cursor"}, "after"},
		{"cursor: entgql's msgpack", "", `{ doctors(after: "gaFpzwAAAAIAAAAA") { totalCount } }`, nil, "after"},
		{"cursor: a number", "", doctorsOp, map[string]any{"a": 5}, "after"},
		{"cursor: an object", "", doctorsOp, map[string]any{"a": map[string]any{"i": 1}}, "after"},
		{"cursor: too long", "", doctorsOp, map[string]any{"a": strings.Repeat("A", 10_000)}, "after"},
		{"cursor: NaN distance", "", nearOp, map[string]any{"a": floatCursor(math.NaN())}, "after"},
		{"cursor: infinite distance", "", nearOp, map[string]any{"a": floatCursor(math.Inf(1))}, "after"},
		{"cursor: negative distance", "", nearOp, map[string]any{"a": floatCursor(-1)}, "after"},
		{"cursor: time into distance search", "", nearOp, map[string]any{"a": timeCursor}, "after"},
		{"cursor: distance into search by id", "", doctorsOp, map[string]any{"a": distanceCursor}, "after"},
		{"cursor: recordFiles", pat, `{ recordFiles(after: "x") { totalCount } }`, nil, "after"},
		{"cursor: distance into recordFiles", pat, `query($a: Cursor) { recordFiles(after: $a) { totalCount } }`, map[string]any{"a": distanceCursor}, "after"},
		{"cursor: recordAccessLog", pat, `{ recordAccessLog(after: "x") { totalCount } }`, nil, "after"},
		{"cursor: id into recordAccessLog", pat, `query($a: Cursor) { recordAccessLog(after: $a) { totalCount } }`, map[string]any{"a": idCursor}, "after"},
		{"cursor: notifications", pat, `{ notifications(after: "x") { totalCount } }`, nil, "after"},
		{"cursor: distance into notifications", pat, `query($a: Cursor) { notifications(after: $a) { totalCount } }`, map[string]any{"a": distanceCursor}, "after"},
		{"cursor: appointments", pat, `{ appointments(after: "x") { totalCount } }`, nil, "after"},
		{"cursor: id into appointments", pat, `query($a: Cursor) { appointments(after: $a) { totalCount } }`, map[string]any{"a": idCursor}, "after"},
		{"cursor: invoices", pat, `{ invoices(after: "x") { totalCount } }`, nil, "after"},
		{"cursor: distance into invoices", pat, `query($a: Cursor) { invoices(after: $a) { totalCount } }`, map[string]any{"a": distanceCursor}, "after"},

		{"id: letters", doc, `mutation { deleteSlot(id: "abc") }`, nil, "id"},
		{"id: negative", "", `{ node(id: "-1") { id } }`, nil, "id"},
		{"id: leading zero", "", `{ node(id: "01") { id } }`, nil, "id"},
		{"id: past int64", pat, `mutation { bookAppointment(slotId: "99999999999999999999") { id } }`, nil, "slotId"},
		{"id: float variable", pat, `mutation($s: ID!) { bookAppointment(slotId: $s) { id } }`, map[string]any{"s": 1.5}, "slotId"},
		{"id: in a list", "", `{ nodes(ids: ["1", "x"]) { id } }`, nil, "ids[1]"},
		{"id: in an input", pat, `mutation { shareRecords(input: {doctorId: "x", categories: [EXAM], expiresAt: "` + soon + `"}) { id } }`, nil, "input.doctorId"},
		{"id: in a list in an input", pat, `mutation($in: ShareInput!) { shareRecords(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"doctorId": "1", "fileIds": []any{"1", "1e9"}, "expiresAt": soon}}, "input.fileIds[1]"},

		{"time: words", doc, `mutation { createSlots(input: [{startsAt: "tomorrow", endsAt: "` + soon + `"}]) { id } }`, nil, "input[0].startsAt"},
		{"time: second of a list", doc, `mutation($in: [SlotInput!]!) { createSlots(input: $in) { id } }`,
			map[string]any{"in": []any{map[string]any{"startsAt": soon, "endsAt": "2031-01-01T11:00:00Z"}, map[string]any{"startsAt": soon, "endsAt": "2031-02-30T10:00:00Z"}}}, "input[1].endsAt"},
		{"time: empty", doc, `mutation { updateSlot(id: "1", input: {startsAt: "", endsAt: "` + soon + `"}) { id } }`, nil, "input.startsAt"},
		{"time: no offset", pat, `mutation { shareRecords(input: {doctorId: "1", categories: [EXAM], expiresAt: "2031-01-01T10:00:00"}) { id } }`, nil, "input.expiresAt"},
		{"time: a number", "", `query($f: Time) { doctors { edges { node { slots(from: $f) { id } } } } }`, map[string]any{"f": 1700000000}, "from"},
		{"time: argument of a nested field", "", `{ doctors { edges { node { slots(to: "2031-01-01T25:00:00Z") { id } } } } }`, nil, "to"},
		{"time: report", "", `{ consultationsReport(from: "last month", to: "` + soon + `") { count } }`, nil, "from"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := env.Do(tc.token, tc.query, tc.vars)
			if r.Code() != "BAD_USER_INPUT" || r.Ext("field") != tc.field || r.Ext("requestId") == "" {
				t.Fatalf("code %q field %q requestId %q, want BAD_USER_INPUT %q with a request id (%+v)",
					r.Code(), r.Ext("field"), r.Ext("requestId"), tc.field, r.Errors)
			}
		})
	}
	assertNoErrorLogged(t, env)
}
