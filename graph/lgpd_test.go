package graph_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent/auditevent"
	"github.com/healthmed/healthmed/ent/notification"
	"github.com/healthmed/healthmed/ent/patient"
	"github.com/healthmed/healthmed/ent/recordshare"
	"github.com/healthmed/healthmed/ent/session"
	"github.com/healthmed/healthmed/internal/apptest"
)

const deactivateOp = `mutation($pw: String!) { deactivateAccount(password: $pw) }`

func export(t *testing.T, env *apptest.Env, token string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, env.Server.URL+"/me/export", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := env.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, body
}

func TestPatientExportsEverything(t *testing.T) {
	env := apptest.New(t)
	pat, cpf, email := env.Patient("Exporter")
	doc, _ := env.Doctor("Dr. Export", "Cardiology", -23.5, -46.6)
	book(t, env, pat, createSlot(t, env, doc, tomorrowAt(10), 30))
	pdf := []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
	r := env.Upload(pat, uploadOp, map[string]any{"in": map[string]any{"title": "Hemograma", "category": "EXAM", "tags": []string{"blood"}}},
		apptest.File{Name: "hemograma.pdf", ContentType: "application/pdf", Content: pdf})
	if r.Code() != "" {
		t.Fatalf("upload: %+v", r.Errors)
	}

	env.Do(pat, updatePatientOp, map[string]any{"in": map[string]any{
		"phone": "+5511912345678", "birthDate": "1970-01-31", "preferredLanguage": "pt-BR"}}).Decode(t, &struct{}{})
	env.Do(pat, `mutation($in: InsurancePlanInput!) { registerInsurancePlan(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"operator": "unimed", "cardNumber": "1234 5678 9012 3456"}}).Decode(t, &struct{}{})
	// Another patient of the same doctor: nothing of theirs is exported.
	other, _, otherEmail := env.Patient("Vizinho")
	book(t, env, other, createSlot(t, env, doc, tomorrowAt(11), 30))
	if r := env.Upload(other, uploadOp, map[string]any{"in": map[string]any{"title": "Raio-X do vizinho", "category": "EXAM"}},
		apptest.File{Name: "rx.pdf", ContentType: "application/pdf", Content: pdf}); r.Code() != "" {
		t.Fatalf("the other's upload: %+v", r.Errors)
	}
	env.Do(other, `mutation($in: InsurancePlanInput!) { registerInsurancePlan(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"operator": "operadora-do-vizinho", "cardNumber": "9999 8888 7777"}}).Decode(t, &struct{}{})
	status, body := export(t, env, pat)
	if status != 200 {
		t.Fatalf("export status %d: %s", status, body)
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	var data map[string]any
	var gotFile []byte
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		switch {
		case f.Name == "data.json":
			if err := json.Unmarshal(b, &data); err != nil {
				t.Fatal(err)
			}
		case strings.HasPrefix(f.Name, "files/") && strings.HasSuffix(f.Name, "-hemograma.pdf"):
			gotFile = b
		}
	}
	if !bytes.Equal(gotFile, pdf) {
		t.Fatalf("exported file %q differs from the upload", gotFile)
	}
	js, _ := json.Marshal(data)
	for _, theirs := range []string{otherEmail, "Raio-X do vizinho", "operadora-do-vizinho"} {
		if strings.Contains(string(js), theirs) {
			t.Errorf("data.json holds another patient's %q", theirs)
		}
	}
	if appts, _ := data["appointments"].([]any); len(appts) != 1 {
		t.Errorf("data.json has %d appointments, want the patient's one", len(appts))
	}
	if len(zr.File) != 2 {
		t.Errorf("the archive holds %d entries, want data.json and the patient's one file", len(zr.File))
	}
	for _, want := range []string{email, cpf, "Dr. Export", "REQUESTED", "Hemograma"} {
		if !strings.Contains(string(js), want) {
			t.Errorf("data.json lacks %q", want)
		}
	}
	if !strings.Contains(string(js), "unimed") || strings.Contains(string(js), "56789012") {
		t.Errorf("insurance plan missing or card number exposed in data.json")
	}
	// The sign-in of the registration is there, without its token.
	if signIns, _ := data["signIns"].([]any); len(signIns) != 1 {
		t.Errorf("data.json has %d sign-ins, want the registration's", len(signIns))
	}
	for _, secret := range []string{"password", "argon2id", "storage_key", "wrapped_key", "card_sealed", "token_hash", "hmr_", "client_addr"} {
		if strings.Contains(strings.ToLower(string(js)), secret) {
			t.Errorf("data.json contains %q", secret)
		}
	}
	// The export of the file is in the access log.
	n, err := env.DB.Client.AuditEvent.Query().Where(auditevent.ActionEQ(auditevent.ActionDOWNLOAD), auditevent.DetailEQ("data export")).Count(sysCtx())
	if err != nil || n != 1 {
		t.Fatalf("export audit rows %d (err %v), want 1", n, err)
	}
	if s, _ := export(t, env, doc); s != http.StatusForbidden {
		t.Fatalf("doctor export status %d", s)
	}
	if s, _ := export(t, env, ""); s != http.StatusUnauthorized {
		t.Fatalf("anonymous export status %d", s)
	}
}

func TestDeactivationAnonymisesAndBlocks(t *testing.T) {
	env := apptest.New(t)
	pat, cpf, email := env.Patient("Leaving Person")
	doc, _ := env.Doctor("Dr. Stay", "Cardiology", -23.5, -46.6)
	id := book(t, env, pat, createSlot(t, env, doc, tomorrowAt(9), 30))
	docID := viewerID(t, env, doc)
	pdf := []byte("%PDF-1.4\n%%EOF\n")
	env.Upload(pat, uploadOp, map[string]any{"in": map[string]any{"title": "Laudo", "category": "REPORT", "tags": []string{}}},
		apptest.File{Name: "laudo.pdf", ContentType: "application/pdf", Content: pdf})
	env.Do(pat, `mutation($in: ShareInput!) { shareRecords(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"doctorId": docID, "categories": []string{"REPORT"}, "expiresAt": time.Now().Add(48 * time.Hour).Format(time.RFC3339)}}).Decode(t, &struct{}{})

	env.Do(pat, `mutation($in: InsurancePlanInput!) { registerInsurancePlan(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"operator": "unimed", "cardNumber": "1234 5678 9012 3456"}}).Decode(t, &struct{}{})
	// Another patient who stays: nothing of theirs goes.
	stayer, stayerCPF, _ := env.Patient("Staying Person")
	env.Do(stayer, `mutation($in: InsurancePlanInput!) { registerInsurancePlan(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"operator": "amil", "cardNumber": "9999 8888 7777"}}).Decode(t, &struct{}{})
	env.Do(stayer, `mutation($in: ShareInput!) { shareRecords(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"doctorId": docID, "categories": []string{"EXAM"}, "expiresAt": time.Now().Add(48 * time.Hour).Format(time.RFC3339)}}).Decode(t, &struct{}{})
	if r := env.Do(pat, deactivateOp, map[string]any{"pw": "wrong password!"}); r.Code() != "BAD_USER_INPUT" {
		t.Fatalf("wrong password: %q", r.Code())
	}
	if r := env.Do(pat, deactivateOp, map[string]any{"pw": "correct horse battery"}); r.Code() != "CONFLICT" {
		t.Fatalf("with an upcoming appointment: %q", r.Code())
	}
	env.Do(pat, cancelOp, map[string]any{"id": id, "r": "leaving"}).Decode(t, &struct{}{})
	var out struct{ DeactivateAccount bool }
	env.Do(pat, deactivateOp, map[string]any{"pw": "correct horse battery"}).Decode(t, &out)
	if !out.DeactivateAccount {
		t.Fatal("not deactivated")
	}
	// Every sign-in is revoked, the token stops working, and so does
	// logging in.
	p, err := env.DB.Client.Patient.Query().Where(patient.Cpf(cpf)).Only(sysCtx())
	if err != nil {
		t.Fatal(err)
	}
	if n, err := env.DB.Client.Session.Query().Where(session.RoleEQ(session.RolePATIENT), session.AccountID(p.ID),
		session.RevokedAtIsNil()).Count(sysCtx()); err != nil || n != 0 {
		t.Fatalf("%d sign-ins still live after deactivation (err %v)", n, err)
	}
	if r := env.Do(pat, `{ viewer { __typename } }`, nil); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("old token: %q", r.Code())
	}
	for _, login := range []string{email, cpf} {
		if r := env.Do("", loginPatientOp, map[string]any{"login": login, "pw": "correct horse battery"}); r.Code() != "UNAUTHENTICATED" {
			t.Fatalf("login with %s: %q", login, r.Code())
		}
	}
	// Personal data is gone; the clinical record, the CPF and the log stay.
	if p.Name != "Paciente desativado" || p.Email == email || p.Cpf != cpf || p.DeactivatedAt == nil ||
		p.Phone != nil || p.BirthDate != nil || p.PreferredLanguage != nil {
		t.Fatalf("patient after deactivation: %+v", p)
	}
	plans, err := env.DB.Client.InsurancePlan.Query().WithPatient().All(sysCtx())
	if err != nil || len(plans) != 1 || plans[0].Edges.Patient.Cpf != stayerCPF {
		t.Fatalf("insurance plans after deactivation: %+v (err %v), want the other patient's only", plans, err)
	}
	if r := env.Do(stayer, `{ viewer { __typename } }`, nil); r.Code() != "" {
		t.Fatalf("the other patient's token: %q", r.Code())
	}
	if n, err := env.DB.Client.RecordShare.Query().Where(recordshare.RevokedAtIsNil()).Count(sysCtx()); err != nil || n != 1 {
		t.Fatalf("%d live shares after deactivation (err %v), want the other patient's", n, err)
	}
	files, err := env.DB.Client.RecordFile.Query().Count(sysCtx())
	if err != nil || files != 1 {
		t.Fatalf("record files kept: %d (err %v)", files, err)
	}
	// The doctor is told the share ended, as with revokeShare.
	if n, err := env.DB.Client.Notification.Query().Where(notification.KindEQ(notification.KindSHARE_REVOKED)).Count(sysCtx()); err != nil || n != 1 {
		t.Fatalf("share-revoked notifications %d (err %v), want 1", n, err)
	}
	// Sharing ended: the doctor no longer sees the file.
	var shared struct{ SharedRecords []struct{ ID string } }
	env.Do(doc, `query($p: ID!) { sharedRecords(patientId: $p) { id } }`, map[string]any{"p": p.ID}).Decode(t, &shared)
	if len(shared.SharedRecords) != 0 {
		t.Fatalf("doctor still sees %d files", len(shared.SharedRecords))
	}
}
