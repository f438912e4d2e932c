package graph_test

import (
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent/auditevent"
	"github.com/healthmed/healthmed/internal/apptest"
)

func TestShareRecordsValidatesAndChangesNothingOnError(t *testing.T) {
	env := apptest.New(t)
	alice, _, _ := env.Patient("Alice")
	bob, _, _ := env.Patient("Bob")
	doc, _ := env.Doctor("Dr. Share", "Cardiology", -23.5, -46.6)
	docID := viewerID(t, env, doc)
	own := upload(t, env, alice, fileInput("Exame", "EXAM"), apptest.File{Name: "a.pdf", Content: pdf(100)})
	bobs := upload(t, env, bob, fileInput("Exame do Bob", "EXAM"), apptest.File{Name: "b.pdf", Content: pdf(100)})
	in := func(change map[string]any) map[string]any {
		m := map[string]any{"doctorId": docID, "categories": []string{"EXAM"},
			"expiresAt": time.Now().Add(48 * time.Hour).Format(time.RFC3339)}
		for k, v := range change {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}
	cases := []struct {
		name  string
		token string
		in    map[string]any
		code  string
		field string
	}{
		{"expired already", alice, in(map[string]any{"expiresAt": time.Now().Add(-time.Minute).Format(time.RFC3339)}), "BAD_USER_INPUT", "input.expiresAt"},
		{"longer than 180 days", alice, in(map[string]any{"expiresAt": time.Now().Add(181 * 24 * time.Hour).Format(time.RFC3339)}), "BAD_USER_INPUT", "input.expiresAt"},
		{"nothing selected", alice, in(map[string]any{"categories": nil}), "BAD_USER_INPUT", "input"},
		{"someone else's file", alice, in(map[string]any{"fileIds": []string{own, bobs}}), "BAD_USER_INPUT", "input.fileIds"},
		{"not a doctor", alice, in(map[string]any{"doctorId": viewerID(t, env, bob)}), "BAD_USER_INPUT", "input.doctorId"},
		{"blank tag", alice, in(map[string]any{"tags": []string{" "}}), "BAD_USER_INPUT", "input.tags"},
		{"doctor sharing", doc, in(nil), "FORBIDDEN", ""},
		{"anonymous", "", in(nil), "UNAUTHENTICATED", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := env.Do(tc.token, shareOp, map[string]any{"in": tc.in})
			if r.Code() != tc.code || r.Ext("field") != tc.field {
				t.Fatalf("code %q field %q, want %q %q (%+v)", r.Code(), r.Ext("field"), tc.code, tc.field, r.Errors)
			}
			if n, err := env.DB.Client.RecordShare.Query().Count(sysCtx()); err != nil || n != 0 {
				t.Fatalf("%d shares after a refused share (err %v)", n, err)
			}
		})
	}
	// At the 180-day bound exactly (less a minute of test time), it works.
	var out struct {
		ShareRecords struct {
			Categories []string
			Files      []struct{ ID string }
		}
	}
	env.Do(alice, shareOp, map[string]any{"in": in(map[string]any{
		"fileIds":    []string{own, own},
		"categories": []string{"EXAM", "EXAM"},
		"expiresAt":  time.Now().Add(180*24*time.Hour - time.Minute).Format(time.RFC3339),
	})}).Decode(t, &out)
	if len(out.ShareRecords.Categories) != 1 || len(out.ShareRecords.Files) != 1 {
		t.Fatalf("share %+v: duplicates kept", out.ShareRecords)
	}
}

func TestRevokeIsImmediateAndOnlyTheOwnersToMake(t *testing.T) {
	env := apptest.New(t)
	alice, _, _ := env.Patient("Alice")
	bob, _, _ := env.Patient("Bob")
	doc, _ := env.Doctor("Dr. Revoke", "Cardiology", -23.5, -46.6)
	aliceID := viewerID(t, env, alice)
	upload(t, env, alice, fileInput("Exame", "EXAM"), apptest.File{Name: "a.pdf", Content: pdf(100)})
	shareID := shareWith(t, env, alice, map[string]any{"doctorId": viewerID(t, env, doc), "categories": []string{"EXAM"}})
	seen := func() int {
		var out struct{ SharedRecords []struct{ ID string } }
		env.Do(doc, sharedOp, map[string]any{"p": aliceID}).Decode(t, &out)
		return len(out.SharedRecords)
	}
	if seen() != 1 {
		t.Fatal("the doctor does not see the shared file")
	}
	for name, token := range map[string]string{"other patient": bob, "the doctor": doc, "anonymous": ""} {
		r := env.Do(token, revokeOp, map[string]any{"id": shareID})
		want := map[string]string{"other patient": "NOT_FOUND", "the doctor": "FORBIDDEN", "anonymous": "UNAUTHENTICATED"}[name]
		if r.Code() != want {
			t.Fatalf("%s revoking: %q, want %q", name, r.Code(), want)
		}
	}
	if seen() != 1 {
		t.Fatal("a refused revocation took effect")
	}
	var out struct {
		RevokeShare struct{ RevokedAt *time.Time }
	}
	env.Do(alice, revokeOp, map[string]any{"id": shareID}).Decode(t, &out)
	if out.RevokeShare.RevokedAt == nil {
		t.Fatal("no revokedAt")
	}
	if seen() != 0 {
		t.Fatal("the doctor still sees the file after revocation")
	}
	// Revoking again changes nothing and logs nothing more.
	first := *out.RevokeShare.RevokedAt
	env.Do(alice, revokeOp, map[string]any{"id": shareID}).Decode(t, &out)
	if !out.RevokeShare.RevokedAt.Equal(first) {
		t.Fatal("a second revocation moved revokedAt")
	}
	n, err := env.DB.Client.AuditEvent.Query().Where(auditevent.ActionEQ(auditevent.ActionREVOKE)).Count(sysCtx())
	if err != nil || n != 1 {
		t.Fatalf("%d REVOKE rows, want 1 (err %v)", n, err)
	}
	var shares struct {
		RecordShares []struct {
			ID        string
			RevokedAt *time.Time
			Doctor    struct{ Name string }
		}
	}
	env.Do(alice, mySharesOp, nil).Decode(t, &shares)
	if len(shares.RecordShares) != 1 || shares.RecordShares[0].RevokedAt == nil || shares.RecordShares[0].Doctor.Name != "Dr. Revoke" {
		t.Fatalf("recordShares = %+v", shares.RecordShares)
	}
	if r := env.Do(doc, mySharesOp, nil); r.Code() != "FORBIDDEN" {
		t.Fatalf("a doctor listing shares: %q", r.Code())
	}
}

// TestSharesCoverFilesAddedAndRetaggedLater: a category or tag share
// covers files that match later, and a file moved out of it leaves it.
func TestSharesCoverFilesAddedAndRetaggedLater(t *testing.T) {
	env := apptest.New(t)
	alice, _, _ := env.Patient("Alice")
	doc, _ := env.Doctor("Dr. Later", "Cardiology", -23.5, -46.6)
	aliceID := viewerID(t, env, alice)
	shareWith(t, env, alice, map[string]any{"doctorId": viewerID(t, env, doc), "tags": []string{"Cardio"}})
	seen := func() []string {
		var out struct{ SharedRecords []struct{ Title string } }
		env.Do(doc, sharedOp, map[string]any{"p": aliceID}).Decode(t, &out)
		var titles []string
		for _, f := range out.SharedRecords {
			titles = append(titles, f.Title)
		}
		return titles
	}
	later := upload(t, env, alice, fileInput("ECG", "EXAM", "CARDIO"), apptest.File{Name: "ecg.pdf", Content: pdf(100)})
	other := upload(t, env, alice, fileInput("Dermato", "EXAM", "pele"), apptest.File{Name: "d.pdf", Content: pdf(100)})
	if got := seen(); len(got) != 1 || got[0] != "ECG" {
		t.Fatalf("after upload the doctor sees %v, want [ECG]", got)
	}
	env.Do(alice, updateFileOp, map[string]any{"id": other, "in": map[string]any{"tags": []string{"pele", "cardio"}}}).Decode(t, &struct{}{})
	env.Do(alice, updateFileOp, map[string]any{"id": later, "in": map[string]any{"title": "ECG de esforço", "tags": []string{}}}).Decode(t, &struct{}{})
	if got := seen(); len(got) != 1 || got[0] != "Dermato" {
		t.Fatalf("after retagging the doctor sees %v, want [Dermato]", got)
	}
}
