package graph_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
)

type connection struct {
	PageInfo struct {
		HasNextPage bool
		EndCursor   *string
	}
	Edges []struct {
		Cursor string
		Node   struct{ ID string }
	}
}

// pageAll walks a connection page by page from its first page and checks
// the pages against one page holding everything: the same nodes in the
// same order, none twice, each edge's cursor resuming right after it.
// op takes $first and $after and selects field's pageInfo and edges.
func pageAll(t *testing.T, env *apptest.Env, token, op, field string, vars map[string]any, per int) []string {
	t.Helper()
	fetch := func(first int, after any) connection {
		v := map[string]any{"first": first, "after": after}
		for k, x := range vars {
			v[k] = x
		}
		var data map[string]json.RawMessage
		env.Do(token, op, v).Decode(t, &data)
		var c connection
		if err := json.Unmarshal(data[field], &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	var all []string
	for _, e := range fetch(100, nil).Edges {
		all = append(all, e.Node.ID)
	}
	var paged []string
	var after any
	for pages := 1; ; pages++ {
		c := fetch(per, after)
		for _, e := range c.Edges {
			paged = append(paged, e.Node.ID)
		}
		if !c.PageInfo.HasNextPage {
			break
		}
		if pages > len(all) {
			t.Fatalf("%s: pagination does not end", field)
		}
		after = *c.PageInfo.EndCursor
	}
	if fmt.Sprint(paged) != fmt.Sprint(all) {
		t.Fatalf("%s: pages of %d give %v, one page gives %v", field, per, paged, all)
	}
	return all
}

func TestDistanceSearchPagesThroughExactTies(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled())
	// Five doctors at one point: the same distance to the metre's last bit,
	// so only the id orders them.
	for i := 0; i < 5; i++ {
		env.Doctor(fmt.Sprintf("Dr. Same %d", i), "Pediatrics", -23.56, -46.64)
	}
	env.Doctor("Dr. Near", "Pediatrics", -23.551, -46.634)
	env.Doctor("Dr. Far", "Pediatrics", -23.6, -46.7)
	const op = `query($first: Int, $after: Cursor, $near: GeoPointInput) {
		doctors(near: $near, withinKm: 50, first: $first, after: $after) {
			pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }`
	for _, per := range []int{1, 2, 3} {
		if ids := pageAll(t, env, "", op, "doctors", map[string]any{"near": saoPaulo}, per); len(ids) != 7 {
			t.Fatalf("%d doctors, want 7", len(ids))
		}
	}
}

func TestEveryConnectionPagesWithTheNewCursors(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled())
	doc, _ := env.Doctor("Dr. Pages", "Cardiology", -23.5, -46.6)
	pat, _, _ := env.Patient("Ana Pages")
	var patientID int
	fmt.Sscan(viewerID(t, env, pat), &patientID)

	// Appointments, ordered by start.
	var appts []string
	for i := 0; i < 5; i++ {
		appts = append(appts, book(t, env, pat, createSlot(t, env, doc, tomorrowAt(8+i), 30)))
	}
	const apptOp = `query($first: Int, $after: Cursor) { appointments(first: $first, after: $after) {
		pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }`
	for _, token := range []string{pat, doc} {
		if ids := pageAll(t, env, token, apptOp, "appointments", nil, 2); fmt.Sprint(ids) != fmt.Sprint(appts) {
			t.Fatalf("appointments %v, want %v", ids, appts)
		}
	}

	// Invoices, newest first, four of five issued in the same microsecond.
	issued := time.Date(2025, 5, 1, 12, 0, 0, 123456000, time.UTC)
	_, err := env.DB.SQL.Exec(`INSERT INTO invoices (created_at, updated_at, number, amount_cents, issued_by, service_at,
			issued_at, appointment_id, patient_id, doctor_id)
		SELECT now(), now(), 'P-' || id, 1000, 'DOCTOR', starts_at,
			CASE WHEN id = (SELECT min(id) FROM appointments) THEN $1::timestamptz - interval '1 day' ELSE $1 END,
			id, patient_id, doctor_id FROM appointments`, issued)
	if err != nil {
		t.Fatal(err)
	}
	const invoiceOp = `query($first: Int, $after: Cursor) { invoices(first: $first, after: $after) {
		pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }`
	for _, per := range []int{1, 2, 4} {
		if ids := pageAll(t, env, pat, invoiceOp, "invoices", nil, per); len(ids) != 5 {
			t.Fatalf("%d invoices, want 5", len(ids))
		}
	}

	// The access log, newest first, with ties.
	for i := 0; i < 7; i++ {
		at := issued.Add(time.Duration(i/3) * time.Minute)
		if _, err := env.DB.SQL.Exec(`INSERT INTO audit_events (created_at, action, allowed, actor_role, patient_id)
			VALUES ($1, 'VIEW_METADATA', true, 'PATIENT', $2)`, at, patientID); err != nil {
			t.Fatal(err)
		}
	}
	const logOp = `query($first: Int, $after: Cursor) { recordAccessLog(first: $first, after: $after) {
		pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }`
	for _, per := range []int{1, 2, 3} {
		if ids := pageAll(t, env, pat, logOp, "recordAccessLog", nil, per); len(ids) != 7 {
			t.Fatalf("%d access log rows, want 7", len(ids))
		}
	}

	// Notifications (each booking notified the doctor), newest first.
	const notifOp = `query($first: Int, $after: Cursor) { notifications(first: $first, after: $after) {
		pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }`
	if ids := pageAll(t, env, doc, notifOp, "notifications", nil, 2); len(ids) < 5 {
		t.Fatalf("%d notifications for the doctor, want at least 5", len(ids))
	}

	// Record files, newest first.
	for i := 0; i < 3; i++ {
		r := env.Upload(pat, uploadOp, map[string]any{"in": map[string]any{"title": fmt.Sprintf("exam %d", i), "category": "EXAM"}},
			apptest.File{Name: "exam.pdf", ContentType: "application/pdf", Content: []byte("%PDF-1.4 exam")})
		if len(r.Errors) > 0 {
			t.Fatalf("upload: %+v", r.Errors)
		}
	}
	const filesOp = `query($first: Int, $after: Cursor) { recordFiles(first: $first, after: $after) {
		pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }`
	if ids := pageAll(t, env, pat, filesOp, "recordFiles", nil, 2); len(ids) != 3 {
		t.Fatalf("%d record files, want 3", len(ids))
	}
}
