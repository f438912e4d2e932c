package graph_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent/auditevent"
	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/record"
	"github.com/healthmed/healthmed/internal/viewer"
)

// TestRecordAccessMatrix tries every kind of viewer against one file of
// Alice's through the four ways in (list, node(id:), downloadUrl and the
// download endpoint) and checks both the answer and the audit log: every
// access by a doctor, and every download, writes exactly one row, denials
// included; others' refused attempts write none.
func TestRecordAccessMatrix(t *testing.T) {
	env := apptest.New(t)
	alice, _, _ := env.Patient("Alice")
	bob, _, _ := env.Patient("Bob")
	aliceID := viewerID(t, env, alice)
	names := []string{"by file", "by category", "by tag", "expired", "revoked", "other doctor"}
	docs := map[string]string{}
	for _, n := range names {
		docs[n], _ = env.Doctor("Dr. "+n, "Cardiology", -23.5, -46.6)
	}
	content := pdf(3000)
	fileID := upload(t, env, alice, fileInput("Hemograma", "EXAM", "Cardio"), apptest.File{Name: "hemograma.pdf", Content: content})
	// A file no share covers: no doctor may ever see it.
	hiddenID := upload(t, env, alice, fileInput("Receita", "PRESCRIPTION", "pessoal"), apptest.File{Name: "receita.pdf", Content: pdf(100)})

	shares := map[string]string{}
	for name, sel := range map[string]map[string]any{
		"by file":     {"fileIds": []string{fileID}},
		"by category": {"categories": []string{"EXAM"}},
		"by tag":      {"tags": []string{"cardio"}},
		"expired":     {"fileIds": []string{fileID}},
		"revoked":     {"fileIds": []string{fileID}},
	} {
		sel["doctorId"] = viewerID(t, env, docs[name])
		shares[name] = shareWith(t, env, alice, sel)
	}
	// Links handed out while their shares were live.
	staleLinks := map[string]string{
		"expired": downloadURL(t, env, docs["expired"], fileID),
		"revoked": downloadURL(t, env, docs["revoked"], fileID),
	}
	// One second past expiresAt.
	if err := env.DB.Client.RecordShare.UpdateOneID(atoi(t, shares["expired"])).
		SetExpiresAt(time.Now().Add(-time.Second)).Exec(sysCtx()); err != nil {
		t.Fatal(err)
	}
	env.Do(alice, revokeOp, map[string]any{"id": shares["revoked"]}).Decode(t, &struct{}{})
	aliceLink := downloadURL(t, env, alice, fileID)
	tampered := aliceLink[:len(aliceLink)-2] + map[bool]string{true: "AA", false: "BB"}[strings.HasSuffix(aliceLink, "BB")]

	type row struct {
		action  auditevent.Action
		allowed bool
		file    bool // the row names the file
		share   string
	}
	view := func(allowed bool, share string) *row {
		return &row{auditevent.ActionVIEW_METADATA, allowed, true, share}
	}
	type matrixCase struct {
		name     string
		token    string
		listCode string
		listRow  *row // nil: no row
		seesFile bool
		nodeRow  *row
		link     string // tried at the download endpoint with token; "" the viewer's own
		status   int
		dlRow    *row
	}
	cases := []matrixCase{
		{"owner", alice, "", nil, true, nil, aliceLink, 200,
			&row{auditevent.ActionDOWNLOAD, true, true, ""}},
	}
	for _, n := range []string{"by file", "by category", "by tag"} {
		cases = append(cases, matrixCase{"doctor with a live share " + n, docs[n], "", view(true, shares[n]), true, view(true, shares[n]), "", 200,
			&row{auditevent.ActionDOWNLOAD, true, true, shares[n]}})
	}
	denied := func(name, token, listCode string, listNamesFile bool, link string, status int) {
		cases = append(cases, matrixCase{name, token, listCode, &row{auditevent.ActionVIEW_METADATA, false, listNamesFile, ""}, false,
			view(false, ""), link, status, &row{auditevent.ActionDOWNLOAD, false, link != tampered, ""}})
	}
	denied("doctor with an expired share", docs["expired"], "", false, staleLinks["expired"], http.StatusNotFound)
	denied("doctor with a revoked share", docs["revoked"], "", false, staleLinks["revoked"], http.StatusNotFound)
	denied("other doctor with the owner's link", docs["other doctor"], "", false, aliceLink, http.StatusForbidden)
	// Only a doctor's attempt on a patient's record is worth a row:
	// anyone else could write into Alice's log at will.
	cases = append(cases,
		matrixCase{"other patient with the owner's link", bob, "FORBIDDEN", nil, false, nil, aliceLink, http.StatusForbidden, nil},
		matrixCase{"anonymous with a tampered link", "", "UNAUTHENTICATED", nil, false, nil, tampered, http.StatusForbidden, nil})

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var actorRole string
			var actorID int
			if tc.token != "" {
				actorID = atoi(t, viewerID(t, env, tc.token))
				actorRole = map[bool]string{true: "patient", false: "doctor"}[tc.token == alice || tc.token == bob]
			} else {
				actorRole = "anonymous"
			}
			expect := func(step string, before int, want *row) {
				t.Helper()
				rows := auditAfter(t, env, before)
				if want == nil {
					if len(rows) != 0 {
						t.Fatalf("%s: %d audit rows, want none", step, len(rows))
					}
					return
				}
				if len(rows) != 1 {
					t.Fatalf("%s: %d audit rows, want exactly 1", step, len(rows))
				}
				r := rows[0]
				wantFile := 0
				if want.file {
					wantFile = atoi(t, fileID)
				}
				wantPatient := atoi(t, aliceID)
				if tc.link == tampered && want.action == auditevent.ActionDOWNLOAD {
					wantPatient = 0 // a forged link names no one
				}
				wantShare := 0
				if want.share != "" {
					wantShare = atoi(t, want.share)
				}
				if r.Action != want.action || r.Allowed != want.allowed || intOr0(r.RecordFileID) != wantFile ||
					intOr0(r.PatientID) != wantPatient || intOr0(r.ShareID) != wantShare ||
					r.ActorRole != actorRole || intOr0(r.ActorID) != actorID || r.ClientAddr != "127.0.0.1" {
					t.Fatalf("%s: audit row %+v, want %+v by %s %d", step, r, *want, actorRole, actorID)
				}
			}

			// The list a viewer of this kind would use.
			before := lastAuditID(t, env)
			var listed []string
			if tc.token == alice {
				var out struct {
					RecordFiles struct {
						Edges []struct{ Node struct{ ID string } }
					}
				}
				env.Do(tc.token, myFilesOp, nil).Decode(t, &out)
				for _, e := range out.RecordFiles.Edges {
					listed = append(listed, e.Node.ID)
				}
			} else {
				r := env.Do(tc.token, sharedOp, map[string]any{"p": aliceID})
				if r.Code() != tc.listCode {
					t.Fatalf("list: code %q, want %q", r.Code(), tc.listCode)
				}
				if tc.listCode == "" {
					var out struct{ SharedRecords []struct{ ID string } }
					r.Decode(t, &out)
					for _, f := range out.SharedRecords {
						listed = append(listed, f.ID)
					}
				}
			}
			if got := strings.Contains(strings.Join(listed, ","), fileID); got != tc.seesFile {
				t.Fatalf("list %v: sees the file %v, want %v", listed, got, tc.seesFile)
			}
			if tc.token != alice && strings.Contains(strings.Join(listed, ","), hiddenID) {
				t.Fatal("a file no share covers was listed")
			}
			expect("list", before, tc.listRow)

			before = lastAuditID(t, env)
			r := env.Do(tc.token, nodeFileOp, map[string]any{"id": fileID})
			if tc.seesFile && r.Code() != "" || !tc.seesFile && r.Code() != "NOT_FOUND" {
				t.Fatalf("node: code %q, data %s", r.Code(), r.Data)
			}
			expect("node", before, tc.nodeRow)

			before = lastAuditID(t, env)
			r = env.Do(tc.token, fileURLOp, map[string]any{"id": fileID})
			link := tc.link
			if tc.seesFile {
				var out struct{ Node struct{ DownloadURL string } }
				r.Decode(t, &out)
				if link == "" {
					link = out.Node.DownloadURL
				}
			} else if r.Code() != "NOT_FOUND" {
				t.Fatalf("downloadUrl: code %q, data %s", r.Code(), r.Data)
			}
			expect("downloadUrl", before, tc.nodeRow)

			before = lastAuditID(t, env)
			res, body, err := env.Download(tc.token, link)
			if err != nil || res.StatusCode != tc.status {
				t.Fatalf("download: status %d (err %v), want %d: %s", res.StatusCode, err, tc.status, body)
			}
			if tc.status == 200 {
				if !bytes.Equal(body, content) {
					t.Fatal("downloaded bytes differ from the upload")
				}
				h := res.Header
				if h.Get("Content-Type") != "application/pdf" || h.Get("X-Content-Type-Options") != "nosniff" ||
					h.Get("Cache-Control") != "no-store" ||
					h.Get("Content-Disposition") != `attachment; filename="hemograma.pdf"; filename*=UTF-8''hemograma.pdf` {
					t.Fatalf("download headers %v", h)
				}
			} else if !strings.Contains(string(body), `"code"`) || bytes.Contains(body, content[9:40]) {
				t.Fatalf("refusal body %s", body)
			}
			expect("download", before, tc.dlRow)
		})
	}
}

// TestExpiredLinkIsRefusedAndLogged: a link stops working five minutes
// after it was made, even for the owner; a doctor's stale link is a
// refused access on record, the owner's own is not.
func TestExpiredLinkIsRefusedAndLogged(t *testing.T) {
	env := apptest.New(t)
	alice, _, _ := env.Patient("Alice")
	doc, _ := env.Doctor("Dr. Stale", "Cardiology", -23.5, -46.6)
	aliceID := atoi(t, viewerID(t, env, alice))
	docID := atoi(t, viewerID(t, env, doc))
	fileID := upload(t, env, alice, fileInput("Laudo", "REPORT"), apptest.File{Name: "laudo.pdf", Content: pdf(500)})
	shareWith(t, env, alice, map[string]any{"doctorId": viewerID(t, env, doc), "fileIds": []string{fileID}})
	links := record.NewLinks([]byte(env.Config.LinkSecret), env.Config.PublicURL)
	made := time.Now().Add(-record.LinkTTL - time.Second)
	for _, tc := range []struct {
		name string
		v    viewer.Viewer
		rows int
	}{
		{"doctor's", viewer.Viewer{Role: viewer.Doctor, ID: docID}, 1},
		{"owner's", viewer.Viewer{Role: viewer.Patient, ID: aliceID}, 0},
	} {
		before := lastAuditID(t, env)
		res, body, _ := env.Download("", links.URL(atoi(t, fileID), tc.v, made))
		if res.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "FORBIDDEN") {
			t.Fatalf("%s stale link: %d %s", tc.name, res.StatusCode, body)
		}
		rows := auditAfter(t, env, before)
		if len(rows) != tc.rows || tc.rows == 1 && (rows[0].Allowed || intOr0(rows[0].RecordFileID) != atoi(t, fileID) ||
			intOr0(rows[0].ActorID) != docID || rows[0].Detail != "link expired") {
			t.Fatalf("%s stale link: audit rows %+v", tc.name, rows)
		}
	}
	// The same link, fresh, works without a bearer token: it is the
	// credential a browser follows.
	res, _, err := env.Download("", downloadURL(t, env, alice, fileID))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("fresh link: %d %v", res.StatusCode, err)
	}
}
