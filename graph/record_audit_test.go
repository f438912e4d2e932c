package graph_test

import (
	"strings"
	"testing"

	"github.com/healthmed/healthmed/ent/auditevent"
	"github.com/healthmed/healthmed/internal/apptest"
)

// TestEveryPathADoctorTakesIsLogged: the list, nodes(ids:) and a share's
// files edge each log one row per file seen, and nodes(ids:) one denied
// row per file refused.
func TestEveryPathADoctorTakesIsLogged(t *testing.T) {
	env := apptest.New(t)
	alice, _, _ := env.Patient("Alice")
	doc, _ := env.Doctor("Dr. Paths", "Cardiology", -23.5, -46.6)
	shared := upload(t, env, alice, fileInput("Visível", "EXAM"), apptest.File{Name: "a.pdf", Content: pdf(100)})
	hidden := upload(t, env, alice, fileInput("Oculto", "REPORT"), apptest.File{Name: "b.pdf", Content: pdf(100)})
	shareID := shareWith(t, env, alice, map[string]any{"doctorId": viewerID(t, env, doc), "fileIds": []string{shared}})

	type want struct {
		file    string
		allowed bool
	}
	check := func(name string, before int, wants ...want) {
		t.Helper()
		rows := auditAfter(t, env, before)
		if len(rows) != len(wants) {
			t.Fatalf("%s: %d rows, want %d: %v", name, len(rows), len(wants), rows)
		}
		for i, w := range wants {
			r := rows[i]
			if r.Action != auditevent.ActionVIEW_METADATA || r.Allowed != w.allowed || intOr0(r.RecordFileID) != atoi(t, w.file) ||
				(w.allowed && intOr0(r.ShareID) != atoi(t, shareID)) {
				t.Fatalf("%s: row %d = %v, want %+v", name, i, r, w)
			}
		}
	}

	before := lastAuditID(t, env)
	r := env.Do(doc, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []string{shared, hidden}})
	if len(r.Errors) != 1 || r.Code() != "NOT_FOUND" {
		t.Fatalf("nodes: %+v", r.Errors)
	}
	check("nodes", before, want{shared, true}, want{hidden, false})

	before = lastAuditID(t, env)
	var out struct {
		Node struct{ Files []struct{ ID string } }
	}
	env.Do(doc, `query($id: ID!) { node(id: $id) { ... on RecordShare { files { id } } } }`, map[string]any{"id": shareID}).Decode(t, &out)
	if len(out.Node.Files) != 1 || out.Node.Files[0].ID != shared {
		t.Fatalf("share's files: %+v", out.Node.Files)
	}
	check("share's files edge", before, want{shared, true})

	// The owner's own reads are not accesses to log.
	before = lastAuditID(t, env)
	env.Do(alice, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []string{shared, hidden}}).Decode(t, &struct{}{})
	env.Do(alice, myFilesOp, nil).Decode(t, &struct{}{})
	check("owner", before)
}

func TestAccessLogShowsThePatientWhoOpenedWhat(t *testing.T) {
	env := apptest.New(t)
	alice, _, _ := env.Patient("Alice")
	bob, _, _ := env.Patient("Bob")
	doc, _ := env.Doctor("Dr. Log", "Cardiology", -23.5, -46.6)
	other, _ := env.Doctor("Dr. Curious", "Cardiology", -23.5, -46.6)
	fileID := upload(t, env, alice, fileInput("Hemograma", "EXAM"), apptest.File{Name: "h.pdf", Content: pdf(100)})
	shareID := shareWith(t, env, alice, map[string]any{"doctorId": viewerID(t, env, doc), "categories": []string{"EXAM"}})
	// Bob's record is not Alice's business.
	upload(t, env, bob, fileInput("Do Bob", "EXAM"), apptest.File{Name: "b.pdf", Content: pdf(100)})

	if res, _, err := env.Download(doc, downloadURL(t, env, doc, fileID)); err != nil || res.StatusCode != 200 {
		t.Fatalf("doctor's download: %d %v", res.StatusCode, err)
	}
	env.Do(other, nodeFileOp, map[string]any{"id": fileID}) // refused, and logged

	type entry struct {
		Action, ActorRole     string
		Allowed               bool
		RecordFileID, ShareID *string
		Detail                *string
		RecordFile            *struct{ Title string }
		Actor                 *struct{ Name string }
	}
	var log struct {
		RecordAccessLog struct {
			TotalCount int
			Edges      []struct{ Node entry }
		}
	}
	env.Do(alice, accessLogOp, map[string]any{"first": 10}).Decode(t, &log)
	var got []entry
	for _, e := range log.RecordAccessLog.Edges {
		got = append(got, e.Node)
	}
	// Newest first: the refused look, the download, the doctor's view
	// when asking for the link, the share, the upload.
	wantActions := []string{"VIEW_METADATA", "DOWNLOAD", "VIEW_METADATA", "SHARE", "UPLOAD"}
	if len(got) != len(wantActions) || log.RecordAccessLog.TotalCount != len(wantActions) {
		t.Fatalf("access log has %d entries: %+v", len(got), got)
	}
	for i, a := range wantActions {
		if got[i].Action != a {
			t.Fatalf("entry %d is %s, want %s", i, got[i].Action, a)
		}
	}
	refused, download := got[0], got[1]
	if refused.Allowed || refused.Actor == nil || refused.Actor.Name != "Dr. Curious" || *refused.RecordFileID != fileID {
		t.Fatalf("refused entry %+v", refused)
	}
	if !download.Allowed || download.Actor.Name != "Dr. Log" || download.RecordFile.Title != "Hemograma" ||
		download.ShareID == nil || *download.ShareID != shareID {
		t.Fatalf("download entry %+v", download)
	}
	for name, c := range map[string]struct{ token, code string }{
		"doctor":    {doc, "FORBIDDEN"},
		"anonymous": {"", "UNAUTHENTICATED"},
	} {
		if r := env.Do(c.token, accessLogOp, nil); r.Code() != c.code {
			t.Errorf("%s reading the access log: %q", name, r.Code())
		}
	}
}

// TestOnlyDoctorsAttemptsAreLoggedAndBounded: strangers probing
// sharedRecords and node(id:)/nodes(ids:) leave nothing in a patient's
// log, and one doctor's refused attempts stop at a budget, answered
// RATE_LIMITED and not logged past it.
func TestOnlyDoctorsAttemptsAreLoggedAndBounded(t *testing.T) {
	env := apptest.New(t)
	alice, _, _ := env.Patient("Alice")
	bob, _, _ := env.Patient("Bob")
	prober, _ := env.Doctor("Dr. Prober", "Cardiology", -23.5, -46.6)
	aliceID := viewerID(t, env, alice)
	fileID := upload(t, env, alice, fileInput("Hemograma", "EXAM"), apptest.File{Name: "h.pdf", Content: pdf(100)})

	before := lastAuditID(t, env)
	for _, token := range []string{"", bob} {
		for range 5 {
			env.Do(token, sharedOp, map[string]any{"p": aliceID})
			env.Do(token, nodeFileOp, map[string]any{"id": fileID})
			env.Do(token, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []string{fileID, fileID, fileID}})
		}
	}
	if rows := auditAfter(t, env, before); len(rows) != 0 {
		t.Fatalf("anonymous and patient probes wrote %d rows", len(rows))
	}

	limited := 0
	for range 40 {
		if env.Do(prober, nodeFileOp, map[string]any{"id": fileID}).Code() == "RATE_LIMITED" {
			limited++
		}
	}
	rows := auditAfter(t, env, before)
	if limited == 0 || len(rows) > 25 || len(rows)+limited != 40 {
		t.Fatalf("40 refused looks by one doctor: %d rows, %d rate-limited", len(rows), limited)
	}
	for _, r := range rows {
		if r.Allowed || r.ActorRole != "doctor" || intOr0(r.PatientID) != atoi(t, aliceID) {
			t.Fatalf("row %+v", r)
		}
	}
}

// TestAccessLogShowsNoAddresses: a patient sees who, when, what and
// whether it was allowed, never the doctor's network address nor raw ids.
func TestAccessLogShowsNoAddresses(t *testing.T) {
	env := apptest.New(t)
	alice, _, _ := env.Patient("Alice")
	doc, _ := env.Doctor("Dr. Addr", "Cardiology", -23.5, -46.6)
	fileID := upload(t, env, alice, fileInput("Hemograma", "EXAM"), apptest.File{Name: "h.pdf", Content: pdf(100)})
	shareWith(t, env, alice, map[string]any{"doctorId": viewerID(t, env, doc), "fileIds": []string{fileID}})
	env.Do(doc, sharedOp, map[string]any{"p": viewerID(t, env, alice)}).Decode(t, &struct{}{})
	for _, field := range []string{"clientAddr", "actorID"} {
		r := env.Do(alice, `{ recordAccessLog { edges { node { `+field+` } } } }`, nil)
		if len(r.Errors) == 0 || strings.Contains(string(r.Data), "127.0.0.1") {
			t.Errorf("%s is readable: %s", field, r.Data)
		}
	}
	var out struct {
		RecordAccessLog struct {
			Edges []struct {
				Node struct {
					CreatedAt, Action string
					Allowed           bool
					Actor             *struct{ Name string }
					RecordFile        *struct{ Title string }
				}
			}
		}
	}
	env.Do(alice, `{ recordAccessLog { edges { node { createdAt action allowed actor { ... on Doctor { name } } recordFile { title } } } } }`, nil).Decode(t, &out)
	view := out.RecordAccessLog.Edges[0].Node
	if view.CreatedAt == "" || view.Action != "VIEW_METADATA" || !view.Allowed || view.Actor == nil || view.Actor.Name != "Dr. Addr" ||
		view.RecordFile == nil || view.RecordFile.Title != "Hemograma" {
		t.Fatalf("the doctor's view reads %+v", view)
	}
}
