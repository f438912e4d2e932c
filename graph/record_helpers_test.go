package graph_test

import (
	"crypto/rand"
	"strconv"
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/auditevent"
	"github.com/healthmed/healthmed/internal/apptest"
)

const (
	uploadOp     = `mutation($file: Upload!, $in: RecordFileInput!) { uploadRecordFile(file: $file, input: $in) { id title category tags fileName contentType sizeBytes } }`
	updateFileOp = `mutation($id: ID!, $in: UpdateRecordFileInput!) { updateRecordFile(id: $id, input: $in) { id title category tags } }`
	deleteFileOp = `mutation($id: ID!) { deleteRecordFile(id: $id) }`
	shareOp      = `mutation($in: ShareInput!) { shareRecords(input: $in) { id expiresAt categories tags files { id } } }`
	revokeOp     = `mutation($id: ID!) { revokeShare(id: $id) { id revokedAt } }`
	myFilesOp    = `query($cat: RecordFileCategory, $tag: String, $first: Int, $after: Cursor) { recordFiles(category: $cat, tag: $tag, first: $first, after: $after) { totalCount edges { node { id title } } pageInfo { hasNextPage endCursor } } }`
	mySharesOp   = `{ recordShares { id revokedAt doctor { name } } }`
	sharedOp     = `query($p: ID!) { sharedRecords(patientId: $p) { id title } }`
	nodeFileOp   = `query($id: ID!) { node(id: $id) { id ... on RecordFile { title } } }`
	fileURLOp    = `query($id: ID!) { node(id: $id) { ... on RecordFile { downloadUrl } } }`
	accessLogOp  = `query($first: Int, $after: Cursor) { recordAccessLog(first: $first, after: $after) { totalCount edges { node { action allowed actorRole recordFileId shareId detail recordFile { title } actor { ... on Doctor { name } ... on Patient { name } } } } pageInfo { hasNextPage endCursor } } }`
)

// pdf returns n bytes that sniff as a PDF.
func pdf(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	copy(b, "%PDF-1.7\n")
	return b
}

func fileInput(title, category string, tags ...string) map[string]any {
	return map[string]any{"in": map[string]any{"title": title, "category": category, "tags": tags}}
}

func upload(t *testing.T, env *apptest.Env, token string, vars map[string]any, f apptest.File) string {
	t.Helper()
	var out struct{ UploadRecordFile struct{ ID string } }
	env.Upload(token, uploadOp, vars, f).Decode(t, &out)
	return out.UploadRecordFile.ID
}

func shareWith(t *testing.T, env *apptest.Env, token string, in map[string]any) string {
	t.Helper()
	if _, ok := in["expiresAt"]; !ok {
		in["expiresAt"] = time.Now().Add(24 * time.Hour).Format(time.RFC3339)
	}
	var out struct{ ShareRecords struct{ ID string } }
	env.Do(token, shareOp, map[string]any{"in": in}).Decode(t, &out)
	return out.ShareRecords.ID
}

func downloadURL(t *testing.T, env *apptest.Env, token, fileID string) string {
	t.Helper()
	var out struct{ Node struct{ DownloadURL string } }
	env.Do(token, fileURLOp, map[string]any{"id": fileID}).Decode(t, &out)
	if out.Node.DownloadURL == "" {
		t.Fatal("no download url")
	}
	return out.Node.DownloadURL
}

func atoi(t *testing.T, id string) int {
	t.Helper()
	n, err := strconv.Atoi(id)
	if err != nil {
		t.Fatalf("id %q: %v", id, err)
	}
	return n
}

// auditAfter returns the audit rows written after the row with id last,
// oldest first.
func auditAfter(t *testing.T, env *apptest.Env, last int) []*ent.AuditEvent {
	t.Helper()
	rows, err := env.DB.Client.AuditEvent.Query().Where(auditevent.IDGT(last)).
		Order(ent.Asc(auditevent.FieldID)).All(sysCtx())
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func lastAuditID(t *testing.T, env *apptest.Env) int {
	t.Helper()
	rows := auditAfter(t, env, 0)
	if len(rows) == 0 {
		return 0
	}
	return rows[len(rows)-1].ID
}

func intOr0(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}
