package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent/notification"
	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/notify/smtptest"
)

const (
	uploadOp  = `mutation($file: Upload!, $in: RecordFileInput!) { uploadRecordFile(file: $file, input: $in) { id } }`
	shareOp   = `mutation($in: ShareInput!) { shareRecords(input: $in) { id } }`
	revokeOp  = `mutation($id: ID!) { revokeShare(id: $id) { id } }`
	meetingOp = `query($id: ID!) { node(id: $id) { ... on Appointment { meeting { url } } } }`
)

// Every e-mail of a full run (request, acceptance, rejection,
// cancellation, reminders, share made and revoked) says at most the date
// and time, the doctor's name and the recipient's own meeting link:
// never the specialty, a reason, a file's name, category or tag, nor who
// the patient is.
func TestEmailsCarryNoClinicalDetails(t *testing.T) {
	env := newEnv(t)
	const (
		doctorName  = "Dra. Helena Prado"
		specialty   = "Oncologia Clínica"
		patientName = "Joaquim Sigiloso"
		rejectWhy   = "suspeita de recidiva tumoral"
		cancelWhy   = "internado por quimioterapia"
		fileTitle   = "Biópsia linfonodo 2027"
		tag         = "metástase"
	)
	doctor, _ := env.Doctor(doctorName, specialty, -23.55, -46.63)
	patient, cpf, patientEmail := env.Patient(patientName)
	dropRegistrationMail(t, env)
	start := day(3, 13) // 10:00 in São Paulo
	ids := slots(t, env, doctor, start, start.Add(time.Hour), start.Add(2*time.Hour))
	accepted := book(t, env, patient, ids[0])
	do(t, env, doctor, acceptOp, map[string]any{"id": accepted})
	rejected := book(t, env, patient, ids[1])
	do(t, env, doctor, rejectOp, map[string]any{"id": rejected, "r": rejectWhy})
	cancelled := book(t, env, patient, ids[2])
	do(t, env, patient, cancelOp, map[string]any{"id": cancelled, "r": cancelWhy})

	var up struct{ UploadRecordFile struct{ ID string } }
	env.Upload(patient, uploadOp, map[string]any{"in": map[string]any{"title": fileTitle, "category": "EXAM", "tags": []string{tag}}},
		apptest.File{Name: "biopsia-linfonodo.pdf", ContentType: "application/pdf", Content: []byte("%PDF-1.7\nresultado")}).Decode(t, &up)
	var sh struct{ ShareRecords struct{ ID string } }
	env.Do(patient, shareOp, map[string]any{"in": map[string]any{
		"doctorId": viewerID(t, env, doctor), "fileIds": []string{up.UploadRecordFile.ID},
		"categories": []string{"EXAM"}, "tags": []string{tag},
		"expiresAt": time.Now().Add(48 * time.Hour).Format(time.RFC3339),
	}}).Decode(t, &sh)
	do(t, env, patient, revokeOp, map[string]any{"id": sh.ShareRecords.ID})
	var link struct {
		Node struct{ Meeting struct{ URL string } }
	}
	env.Do(patient, meetingOp, map[string]any{"id": accepted}).Decode(t, &link)
	if link.Node.Meeting.URL == "" {
		t.Fatal("no meeting link for the patient")
	}

	srv := smtptest.Start(t)
	w := newWorker(env, srv, nil)
	if n := reminders(t, w, start.Add(-23*time.Hour)); n != 2 {
		t.Fatalf("%d reminders", n)
	}
	w.Now = nil
	for {
		n, err := w.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	// 3 requests, accepted, rejected, cancelled, 2 reminders, share made
	// and revoked.
	msgs := srv.Messages()
	if len(msgs) != 10 {
		t.Fatalf("%d e-mails, want 10", len(msgs))
	}
	forbidden := []string{specialty, "Oncologia", rejectWhy, cancelWhy, fileTitle, "Biópsia", "biopsia", tag, "EXAM", "Exame",
		patientName, "Joaquim", cpf}
	kinds := map[string]bool{}
	for _, m := range msgs {
		text := m.Subject + "\n" + m.Body
		kinds[m.Subject] = true
		for _, f := range append(forbidden, patientEmail) {
			if strings.Contains(text, f) {
				t.Errorf("e-mail %q says %q:\n%s", m.Subject, f, m.Body)
			}
		}
		for _, f := range forbidden {
			if strings.Contains(string(m.Data), f) {
				t.Errorf("e-mail %q carries %q in its raw form", m.Subject, f)
			}
		}
		if m.Subject != "Compartilhamento de prontuário encerrado" && !strings.Contains(m.Body, "(America/Sao_Paulo)") {
			t.Errorf("e-mail %q has no local date and time:\n%s", m.Subject, m.Body)
		}
	}
	var toPatient []string
	for _, n := range all(t, env) {
		if n.EmailStatus != notification.EmailStatusSENT {
			t.Errorf("notification %d (%s) is %s", n.ID, n.Kind, n.EmailStatus)
		}
		if n.PatientID != nil {
			toPatient = append(toPatient, messageID(n.ID))
		}
	}
	for _, m := range msgs {
		mine := false
		for _, id := range toPatient {
			mine = mine || m.MessageID == id
		}
		if mine != (m.To[0] == patientEmail) {
			t.Errorf("e-mail %q went to %v", m.Subject, m.To)
		}
	}
	confirmed := find(t, msgs, "Teleconsulta confirmada")
	for _, want := range []string{doctorName, "10:00 (America/Sao_Paulo)", link.Node.Meeting.URL} {
		if !strings.Contains(confirmed.Body, want) {
			t.Errorf("the confirmation lacks %q:\n%s", want, confirmed.Body)
		}
	}
	if request := find(t, msgs, "Nova solicitação de teleconsulta"); strings.Contains(request.Body, "http") {
		t.Errorf("the doctor's request e-mail carries a link:\n%s", request.Body)
	}
}

func find(t *testing.T, msgs []smtptest.Message, subject string) smtptest.Message {
	t.Helper()
	for _, m := range msgs {
		if m.Subject == subject {
			return m
		}
	}
	t.Fatalf("no e-mail %q", subject)
	return smtptest.Message{}
}
