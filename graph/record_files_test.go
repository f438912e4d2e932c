package graph_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent/recordfile"
	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/blob"
	"github.com/healthmed/healthmed/internal/config"
)

func TestRecordFilesListsOwnFilesNewestFirstWithFilters(t *testing.T) {
	env := apptest.New(t)
	alice, _, _ := env.Patient("Alice")
	bob, _, _ := env.Patient("Bob")
	doc, _ := env.Doctor("Dr. List", "Cardiology", -23.5, -46.6)
	for i, f := range []struct{ title, cat, tag string }{
		{"um", "EXAM", "sangue"}, {"dois", "REPORT", "sangue"}, {"três", "EXAM", "imagem"},
	} {
		upload(t, env, alice, fileInput(f.title, f.cat, f.tag), apptest.File{Name: "f.pdf", Content: pdf(100 + i)})
	}
	upload(t, env, bob, fileInput("do bob", "EXAM"), apptest.File{Name: "b.pdf", Content: pdf(100)})
	type page struct {
		RecordFiles struct {
			TotalCount int
			Edges      []struct{ Node struct{ Title string } }
			PageInfo   struct {
				HasNextPage bool
				EndCursor   string
			}
		}
	}
	titles := func(p page) (out []string) {
		for _, e := range p.RecordFiles.Edges {
			out = append(out, e.Node.Title)
		}
		return out
	}
	var p page
	env.Do(alice, myFilesOp, map[string]any{"first": 2}).Decode(t, &p)
	if got := titles(p); p.RecordFiles.TotalCount != 3 || len(got) != 2 || got[0] != "três" || !p.RecordFiles.PageInfo.HasNextPage {
		t.Fatalf("first page %v (total %d)", got, p.RecordFiles.TotalCount)
	}
	env.Do(alice, myFilesOp, map[string]any{"first": 2, "after": p.RecordFiles.PageInfo.EndCursor}).Decode(t, &p)
	if got := titles(p); len(got) != 1 || got[0] != "um" {
		t.Fatalf("second page %v", got)
	}
	env.Do(alice, myFilesOp, map[string]any{"cat": "EXAM", "tag": " Sangue "}).Decode(t, &p)
	if got := titles(p); len(got) != 1 || got[0] != "um" {
		t.Fatalf("EXAM tagged sangue: %v", got)
	}
	for name, c := range map[string]struct {
		token string
		vars  map[string]any
		code  string
	}{
		"page too large": {alice, map[string]any{"first": 101}, "BAD_USER_INPUT"},
		"doctor":         {doc, nil, "FORBIDDEN"},
		"anonymous":      {"", nil, "UNAUTHENTICATED"},
	} {
		if r := env.Do(c.token, myFilesOp, c.vars); r.Code() != c.code {
			t.Errorf("%s: %q, want %q", name, r.Code(), c.code)
		}
	}
}

func TestUpdateRecordFileValidatesAndIsOwnersOnly(t *testing.T) {
	env := apptest.New(t)
	alice, _, _ := env.Patient("Alice")
	bob, _, _ := env.Patient("Bob")
	id := upload(t, env, alice, fileInput("Exame", "EXAM", "a"), apptest.File{Name: "a.pdf", Content: pdf(100)})
	var out struct {
		UpdateRecordFile struct {
			Title, Category string
			Tags            []string
		}
	}
	env.Do(alice, updateFileOp, map[string]any{"id": id, "in": map[string]any{"title": " Laudo ", "category": "REPORT"}}).Decode(t, &out)
	if f := out.UpdateRecordFile; f.Title != "Laudo" || f.Category != "REPORT" || len(f.Tags) != 1 {
		t.Fatalf("updated to %+v", f)
	}
	for name, c := range map[string]struct {
		token string
		in    map[string]any
		code  string
	}{
		"blank title":   {alice, map[string]any{"title": ""}, "BAD_USER_INPUT"},
		"other patient": {bob, map[string]any{"title": "meu"}, "NOT_FOUND"},
	} {
		if r := env.Do(c.token, updateFileOp, map[string]any{"id": id, "in": c.in}); r.Code() != c.code {
			t.Errorf("%s: %q, want %q", name, r.Code(), c.code)
		}
	}
	f, err := env.DB.Client.RecordFile.Get(sysCtx(), atoi(t, id))
	if err != nil || f.Title != "Laudo" {
		t.Fatalf("title after refused updates: %q (err %v)", f.Title, err)
	}
}

// TestDeleteHidesAtOnceAndRetentionErasesLater: a deleted file leaves
// every view and share at once, its bytes stay until the retention job
// runs past the cutoff, and then row and bytes are gone.
func TestDeleteHidesAtOnceAndRetentionErasesLater(t *testing.T) {
	env := apptest.New(t)
	alice, _, _ := env.Patient("Alice")
	bob, _, _ := env.Patient("Bob")
	doc, _ := env.Doctor("Dr. Delete", "Cardiology", -23.5, -46.6)
	aliceID := viewerID(t, env, alice)
	gone := upload(t, env, alice, fileInput("Apagar", "EXAM"), apptest.File{Name: "a.pdf", Content: pdf(100)})
	kept := upload(t, env, alice, fileInput("Manter", "EXAM"), apptest.File{Name: "b.pdf", Content: pdf(100)})
	shareWith(t, env, alice, map[string]any{"doctorId": viewerID(t, env, doc), "fileIds": []string{gone}, "categories": []string{"EXAM"}})
	docLink := downloadURL(t, env, doc, gone)

	for name, token := range map[string]string{"other patient": bob, "doctor": doc} {
		if r := env.Do(token, deleteFileOp, map[string]any{"id": gone}); r.Code() != map[string]string{"other patient": "NOT_FOUND", "doctor": "FORBIDDEN"}[name] {
			t.Fatalf("%s deleting: %q", name, r.Code())
		}
	}
	var del struct{ DeleteRecordFile string }
	env.Do(alice, deleteFileOp, map[string]any{"id": gone}).Decode(t, &del)
	if del.DeleteRecordFile != gone {
		t.Fatalf("deleteRecordFile returned %q", del.DeleteRecordFile)
	}
	if r := env.Do(alice, deleteFileOp, map[string]any{"id": gone}); r.Code() != "NOT_FOUND" {
		t.Fatalf("second delete: %q", r.Code())
	}
	var shared struct{ SharedRecords []struct{ ID string } }
	env.Do(doc, sharedOp, map[string]any{"p": aliceID}).Decode(t, &shared)
	if len(shared.SharedRecords) != 1 || shared.SharedRecords[0].ID != kept {
		t.Fatalf("the doctor sees %v after the delete", shared.SharedRecords)
	}
	for name, token := range map[string]string{"owner": alice, "doctor": doc} {
		if r := env.Do(token, nodeFileOp, map[string]any{"id": gone}); r.Code() != "NOT_FOUND" {
			t.Fatalf("%s reads the deleted file: %q", name, r.Code())
		}
	}
	if res, _, _ := env.Download(doc, docLink); res.StatusCode != 404 {
		t.Fatalf("a link made before the delete: %d", res.StatusCode)
	}

	ctx := context.Background()
	row, err := env.DB.Client.RecordFile.Get(sysCtx(), atoi(t, gone))
	if err != nil {
		t.Fatal(err)
	}
	records := env.App.Records
	if n, err := records.PurgeDeleted(ctx, row.DeletedAt.Add(-time.Second)); err != nil || n != 0 {
		t.Fatalf("purge before the cutoff erased %d (err %v)", n, err)
	}
	if rc, err := records.Store.Get(ctx, row.StorageKey); err != nil {
		t.Fatalf("bytes gone before the retention ran out: %v", err)
	} else {
		rc.Close()
	}
	if n, err := records.PurgeDeleted(ctx, row.DeletedAt.Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("purge erased %d (err %v), want 1", n, err)
	}
	if _, err := records.Store.Get(ctx, row.StorageKey); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("bytes after the purge: %v", err)
	}
	left, err := env.DB.Client.RecordFile.Query().Where(recordfile.IDEQ(atoi(t, gone))).Exist(sysCtx())
	if err != nil || left {
		t.Fatalf("row after the purge: %v (err %v)", left, err)
	}
	if n, err := records.PurgeDeleted(ctx, time.Now()); err != nil || n != 0 {
		t.Fatalf("second purge erased %d (err %v)", n, err)
	}
	// The live file is untouched and still downloads.
	if res, _, err := env.Download(alice, downloadURL(t, env, alice, kept)); err != nil || res.StatusCode != 200 {
		t.Fatalf("live file after the purge: %d %v", res.StatusCode, err)
	}
}

// TestFailedMutationLeavesNoBytes: an upload whose mutation fails later
// (here the next field of the same mutation) is rolled back, bytes too.
func TestFailedMutationLeavesNoBytes(t *testing.T) {
	env := apptest.New(t)
	alice, _, _ := env.Patient("Alice")
	op := `mutation($file: Upload!, $in: RecordFileInput!) {
		uploadRecordFile(file: $file, input: $in) { id }
		deleteRecordFile(id: "17179869183")
	}`
	r := env.Upload(alice, op, fileInput("Exame", "EXAM"), apptest.File{Name: "a.pdf", Content: pdf(200 << 10)})
	if r.Code() != "NOT_FOUND" {
		t.Fatalf("code %q, want NOT_FOUND from the second field", r.Code())
	}
	if n, err := env.DB.Client.RecordFile.Query().Count(sysCtx()); err != nil || n != 0 {
		t.Fatalf("%d rows after a failed mutation (err %v)", n, err)
	}
	if n := storedObjects(t, env); n != 0 {
		t.Fatalf("%d stored objects after a failed mutation", n)
	}
}

// The periodic job erases what was deleted longer ago than the retention,
// and nothing else.
func TestDeletedFilesAreErasedAfterTheRetention(t *testing.T) {
	env, clock := newClinicEnv(t, apptest.WithConfig(func(c *config.Config) {
		c.Clinic.JobInterval = 20 * time.Millisecond
		c.RecordRetention = time.Hour
	}))
	alice, _, _ := env.Patient("Alice")
	old := upload(t, env, alice, fileInput("Old", "EXAM"), apptest.File{Name: "a.pdf", Content: pdf(100)})
	recent := upload(t, env, alice, fileInput("Recent", "EXAM"), apptest.File{Name: "b.pdf", Content: pdf(100)})
	env.Do(alice, deleteFileOp, map[string]any{"id": old})
	clock.Advance(30 * time.Minute)
	env.Do(alice, deleteFileOp, map[string]any{"id": recent})
	recentRow, err := env.DB.Client.RecordFile.Get(sysCtx(), atoi(t, recent))
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(45 * time.Minute) // old: deleted 75 minutes ago; recent: 45

	exists := func(id string) bool {
		ok, err := env.DB.Client.RecordFile.Query().Where(recordfile.IDEQ(atoi(t, id))).Exist(sysCtx())
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for deadline := time.Now().Add(10 * time.Second); exists(old); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the job never erased the file deleted past the retention")
		}
	}
	time.Sleep(100 * time.Millisecond) // several more runs
	if !exists(recent) {
		t.Fatal("a file deleted within the retention was erased")
	}
	rc, err := env.App.Records.Store.Get(context.Background(), recentRow.StorageKey)
	if err != nil {
		t.Fatalf("bytes of the recent deletion: %v", err)
	}
	rc.Close()
}
