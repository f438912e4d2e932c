package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent/notification"
	"github.com/healthmed/healthmed/internal/notify/smtptest"
)

const (
	rescheduleOp = `mutation($id: ID!, $slot: ID!) { rescheduleAppointment(id: $id, slotId: $slot) { id } }`
	joinOp       = `mutation($doc: ID!) { joinWaitlist(doctorId: $doc) { id } }`
)

// TestRescheduleAndWaitlistOfferEmails: a reschedule tells both parties
// the new time (the patient with their link), and the slot it left is
// offered by e-mail to the first in the doctor's line, with how long it
// is held.
func TestRescheduleAndWaitlistOfferEmails(t *testing.T) {
	env := newEnv(t)
	doctor, _ := env.Doctor("Dra. Remarca", "Medicina de Família e Comunidade", -23.55, -46.63)
	patient, _, patientEmail := env.Patient("Paciente Remarca")
	waiter, _, waiterEmail := env.Patient("Paciente Espera")
	start := day(3, 13) // 10:00 in São Paulo
	ids := slots(t, env, doctor, start, start.Add(2*time.Hour))
	appt := book(t, env, patient, ids[0])
	do(t, env, doctor, acceptOp, map[string]any{"id": appt})
	do(t, env, waiter, joinOp, map[string]any{"doc": viewerID(t, env, doctor)})
	do(t, env, patient, rescheduleOp, map[string]any{"id": appt, "slot": ids[1]})

	srv := smtptest.Start(t)
	w := newWorker(env, srv, nil)
	for {
		n, err := w.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	var toDoctor, toPatient, offer []string
	for _, m := range srv.Messages() {
		switch {
		case m.Subject == "Teleconsulta remarcada" && m.To[0] == patientEmail:
			toPatient = append(toPatient, m.Body)
		case m.Subject == "Teleconsulta remarcada":
			toDoctor = append(toDoctor, m.Body)
		case m.Subject == "Um horário foi liberado para você" && m.To[0] == waiterEmail:
			offer = append(offer, m.Body)
		}
	}
	if len(toDoctor) != 1 || len(toPatient) != 1 || len(offer) != 1 {
		t.Fatalf("reschedule e-mails to the doctor %d, to the patient %d, offers %d", len(toDoctor), len(toPatient), len(offer))
	}
	if !strings.Contains(toDoctor[0], "12:00 (America/Sao_Paulo)") || strings.Contains(toDoctor[0], "http") {
		t.Errorf("the doctor's notice:\n%s", toDoctor[0])
	}
	if !strings.Contains(toPatient[0], "Dra. Remarca") || !strings.Contains(toPatient[0], "12:00 (America/Sao_Paulo)") ||
		!strings.Contains(toPatient[0], "https://") {
		t.Errorf("the patient's notice lacks the doctor, the new time or the link:\n%s", toPatient[0])
	}
	if !strings.Contains(offer[0], "Dra. Remarca") || !strings.Contains(offer[0], "10:00 (America/Sao_Paulo)") ||
		!strings.Contains(offer[0], "reservado para você até") || strings.Contains(offer[0], "Paciente Remarca") {
		t.Errorf("the offer:\n%s", offer[0])
	}
}

// TestRescheduledConsultationGetsRemindersOfItsNewTime: the reminders of
// the old time are dropped, and the new time gets its own.
func TestRescheduledConsultationGetsRemindersOfItsNewTime(t *testing.T) {
	env := newEnv(t)
	doctor, _ := env.Doctor("Dra. Lembra Outra Vez", "Medicina de Família e Comunidade", -23.55, -46.63)
	patient, _, _ := env.Patient("Paciente Remarcado")
	first, second := day(3, 13), day(5, 13)
	ids := slots(t, env, doctor, first, second)
	appt := book(t, env, patient, ids[0])
	do(t, env, doctor, acceptOp, map[string]any{"id": appt})
	w := newWorker(env, smtptest.Start(t), nil)
	if n := reminders(t, w, first.Add(-23*time.Hour)); n != 2 {
		t.Fatalf("%d reminders of the first time", n)
	}
	do(t, env, patient, rescheduleOp, map[string]any{"id": appt, "slot": ids[1]})
	if n := reminders(t, w, second.Add(-23*time.Hour)); n != 2 {
		t.Fatalf("%d reminders of the new time, want 2", n)
	}
	if n := reminders(t, w, second.Add(-23*time.Hour)); n != 0 {
		t.Fatalf("%d reminders enqueued twice", n)
	}
	pending, err := env.DB.Client.Notification.Query().Where(notification.AppointmentID(atoi(t, appt)),
		notification.KindEQ(notification.KindREMINDER_24H), notification.EmailStatusEQ(notification.EmailStatusPENDING)).All(sys())
	if err != nil || len(pending) != 2 || !pending[0].StartsAt.Equal(second) {
		t.Fatalf("pending 24-hour reminders %v (%v), want two of the new time", pending, err)
	}
}

// TestProposalEmails: the patient reads both times of the doctor's
// proposal; the doctor hears of a refusal.
func TestProposalEmails(t *testing.T) {
	env := newEnv(t)
	doctor, _ := env.Doctor("Dra. Propõe", "Medicina de Família e Comunidade", -23.55, -46.63)
	patient, _, patientEmail := env.Patient("Paciente Proposta")
	start := day(3, 13) // 10:00 in São Paulo
	ids := slots(t, env, doctor, start, start.Add(3*time.Hour))
	appt := book(t, env, patient, ids[0])
	do(t, env, doctor, `mutation($id: ID!, $slot: ID!) { proposeReschedule(id: $id, slotId: $slot) { id } }`,
		map[string]any{"id": appt, "slot": ids[1]})
	srv := smtptest.Start(t)
	w := newWorker(env, srv, nil)
	drain := func() {
		for {
			n, err := w.RunOnce(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				return
			}
		}
	}
	drain()
	proposal := find(t, srv.Messages(), "Proposta de novo horário para sua teleconsulta")
	if proposal.To[0] != patientEmail || !strings.Contains(proposal.Body, "10:00 (America/Sao_Paulo)") ||
		!strings.Contains(proposal.Body, "13:00 (America/Sao_Paulo)") || !strings.Contains(proposal.Body, "Dra. Propõe") {
		t.Fatalf("proposal to %v:\n%s", proposal.To, proposal.Body)
	}
	do(t, env, patient, `mutation($id: ID!) { declineRescheduleProposal(id: $id) { id } }`, map[string]any{"id": appt})
	drain()
	declined := find(t, srv.Messages(), "Novo horário não aceito")
	if declined.To[0] == patientEmail || !strings.Contains(declined.Body, "10:00 (America/Sao_Paulo)") {
		t.Fatalf("refusal to %v:\n%s", declined.To, declined.Body)
	}
}
