package graph_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/invoice"
	"github.com/healthmed/healthmed/internal/apptest"
)

const (
	invoicesOp = `query($s: InvoiceStatus) { invoices(status: $s) { totalCount edges { node {
		id number amountCents status issuedBy paidAt voidReason appointment { id } } } } }`
	markPaidOp    = `mutation($id: ID!) { markInvoicePaid(id: $id) { id status paidAt } }`
	voidInvoiceOp = `mutation($id: ID!, $r: String!) { voidInvoice(id: $id, reason: $r) { id status voidReason } }`
	nodeInvoiceOp = `query($id: ID!) { node(id: $id) { id ... on Invoice { number amountCents } } }`
	attachOp      = `mutation($id: ID!, $in: ConsultationReportInput!) { attachConsultationReport(appointmentId: $id, input: $in) {
		id title category tags contentType sizeBytes } }`
	attachFileOp = `mutation($id: ID!, $in: ConsultationReportInput!, $file: Upload) { attachConsultationReport(appointmentId: $id, input: $in, file: $file) {
		id category contentType } }`
	reportFilesOp = `query { recordFiles(category: REPORT) { edges { node { id title category } } } }`
)

func TestInvoiceLifecycleAndAuthorization(t *testing.T) {
	env, clock := newClinicEnv(t)
	doc, _ := env.Doctor("Dr. Billing", "Cardiology", -23.5, -46.6)
	otherDoc, _ := env.Doctor("Dr. Elsewhere", "Cardiology", -23.5, -46.6)
	pat, _, _ := env.Patient("Paula Paga")
	otherPat, _, _ := env.Patient("Otto Outro")

	// Accepted but not completed: no invoice yet.
	pending := heldAppointment(t, env, clock, doc, pat, time.Hour)
	var nodeOut struct {
		Node struct{ Invoice *struct{ ID string } }
	}
	env.Do(pat, `query($id: ID!) { node(id: $id) { ... on Appointment { invoice { id } } } }`,
		map[string]any{"id": pending}).Decode(t, &nodeOut)
	if nodeOut.Node.Invoice != nil {
		t.Fatalf("an accepted appointment has an invoice")
	}
	clock.Advance(2 * time.Hour)

	// Completing issues the invoice in the same mutation.
	var done struct {
		CompleteAppointment struct {
			Status  string
			Invoice invoiceOut
		}
	}
	env.Do(doc, clinicCompleteOp, map[string]any{"id": pending}).Decode(t, &done)
	inv := done.CompleteAppointment.Invoice
	if inv.Status != "OPEN" || inv.AmountCents != 25000 || inv.IssuedBy != "DOCTOR" ||
		!regexp.MustCompile(`^HM-\d{8}$`).MatchString(inv.Number) ||
		!strings.HasSuffix(inv.ReceiptURL, "/invoices/"+inv.ID+"/receipt.pdf") {
		t.Fatalf("invoice %+v", inv)
	}

	list := func(token string, status any) (int, []invoiceOut, string) {
		t.Helper()
		r := env.Do(token, invoicesOp, map[string]any{"s": status})
		if r.Code() != "" {
			return 0, nil, r.Code()
		}
		var out struct {
			Invoices struct {
				TotalCount int
				Edges      []struct{ Node invoiceOut }
			}
		}
		r.Decode(t, &out)
		var nodes []invoiceOut
		for _, e := range out.Invoices.Edges {
			nodes = append(nodes, e.Node)
		}
		return out.Invoices.TotalCount, nodes, ""
	}
	for name, tc := range map[string]struct {
		token string
		n     int
		code  string
	}{
		"patient": {pat, 1, ""}, "doctor": {doc, 1, ""},
		"other patient": {otherPat, 0, ""}, "other doctor": {otherDoc, 0, ""},
		"anonymous": {"", 0, "UNAUTHENTICATED"},
	} {
		n, nodes, code := list(tc.token, nil)
		if n != tc.n || len(nodes) != tc.n || code != tc.code {
			t.Fatalf("%s sees %d invoices (code %q), want %d (%q)", name, n, code, tc.n, tc.code)
		}
		if tc.n == 1 && nodes[0].ID != inv.ID {
			t.Fatalf("%s sees %+v", name, nodes[0])
		}
	}
	for name, token := range map[string]string{"other patient": otherPat, "other doctor": otherDoc} {
		if r := env.Do(token, nodeInvoiceOp, map[string]any{"id": inv.ID}); r.Code() != "NOT_FOUND" {
			t.Fatalf("%s node(invoice): %q %s", name, r.Code(), r.Data)
		}
	}

	// Only the doctor settles, and only an open invoice.
	for name, tc := range map[string]struct{ token, code string }{
		"anonymous": {"", "UNAUTHENTICATED"}, "patient": {pat, "NOT_FOUND"},
		"other doctor": {otherDoc, "NOT_FOUND"}, "other patient": {otherPat, "NOT_FOUND"},
	} {
		if r := env.Do(tc.token, markPaidOp, map[string]any{"id": inv.ID}); r.Code() != tc.code {
			t.Fatalf("%s marking paid: %q, want %q", name, r.Code(), tc.code)
		}
		if r := env.Do(tc.token, voidInvoiceOp, map[string]any{"id": inv.ID, "r": "no"}); r.Code() != tc.code {
			t.Fatalf("%s voiding: %q, want %q", name, r.Code(), tc.code)
		}
	}
	var paid struct {
		MarkInvoicePaid struct{ Status, PaidAt string }
	}
	env.Do(doc, markPaidOp, map[string]any{"id": inv.ID}).Decode(t, &paid)
	if paid.MarkInvoicePaid.Status != "PAID" || paid.MarkInvoicePaid.PaidAt == "" {
		t.Fatalf("paid: %+v", paid)
	}
	for _, op := range []string{markPaidOp, voidInvoiceOp} {
		r := env.Do(doc, op, map[string]any{"id": inv.ID, "r": "changed my mind"})
		if r.Code() != "CONFLICT" || r.Ext("reason") != "INVALID_TRANSITION" {
			t.Fatalf("settling a paid invoice again: %q %q", r.Code(), r.Ext("reason"))
		}
	}

	// A second consultation's invoice is voided, with its reason.
	_, second := completedAppointment(t, env, clock, doc, pat)
	if second.Number == inv.Number {
		t.Fatalf("two invoices numbered %s", inv.Number)
	}
	if r := env.Do(doc, voidInvoiceOp, map[string]any{"id": second.ID, "r": "   "}); r.Code() != "BAD_USER_INPUT" || r.Ext("field") != "reason" {
		t.Fatalf("blank reason: %q %q", r.Code(), r.Ext("field"))
	}
	var voided struct {
		VoidInvoice struct{ Status, VoidReason string }
	}
	env.Do(doc, voidInvoiceOp, map[string]any{"id": second.ID, "r": " paciente não compareceu "}).Decode(t, &voided)
	if voided.VoidInvoice.Status != "VOID" || voided.VoidInvoice.VoidReason != "paciente não compareceu" {
		t.Fatalf("voided: %+v", voided)
	}
	if r := env.Do(doc, markPaidOp, map[string]any{"id": second.ID}); r.Code() != "CONFLICT" {
		t.Fatalf("paying a void invoice: %q", r.Code())
	}
	if n, nodes, _ := list(pat, "PAID"); n != 1 || nodes[0].ID != inv.ID {
		t.Fatalf("paid invoices: %d %+v", n, nodes)
	}
	if n, nodes, _ := list(doc, "VOID"); n != 1 || nodes[0].ID != second.ID {
		t.Fatalf("void invoices: %d %+v", n, nodes)
	}
	// Newest first.
	if _, nodes, _ := list(pat, nil); len(nodes) != 2 || nodes[0].ID != second.ID {
		t.Fatalf("order: %+v", nodes)
	}

	// The receipt: same rules as the calendar file.
	path := "/invoices/" + inv.ID + "/receipt.pdf"
	if res, _ := get(t, env, "", path); res.StatusCode != 401 {
		t.Fatalf("anonymous receipt: %d", res.StatusCode)
	}
	for name, token := range map[string]string{"other patient": otherPat, "other doctor": otherDoc} {
		if res, _ := get(t, env, token, path); res.StatusCode != 404 {
			t.Fatalf("%s receipt: %d", name, res.StatusCode)
		}
	}
	if res, _ := get(t, env, pat, "/invoices/999999999/receipt.pdf"); res.StatusCode != 404 {
		t.Fatalf("missing receipt: %d", res.StatusCode)
	}
	for name, token := range map[string]string{"patient": pat, "doctor": doc} {
		res, body := get(t, env, token, path)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("%s receipt: %d %s", name, res.StatusCode, res.Header.Get("Content-Type"))
		}
		if !strings.HasPrefix(string(body), "%PDF-") {
			t.Fatalf("%s receipt is not a PDF: %q", name, body[:min(20, len(body))])
		}
		text := pdfText(t, body)
		for _, want := range []string{"(R$ 250,00)", "Recibo de consulta", inv.Number, "Dr. Billing", "Paula Paga"} {
			if !strings.Contains(text, want) {
				t.Fatalf("%s receipt lacks %q", name, want)
			}
		}
	}
	res, body := get(t, env, pat, "/invoices/"+second.ID+"/receipt.pdf")
	if text := pdfText(t, body); res.StatusCode != 200 || !strings.Contains(text, "Fatura cancelada") ||
		!strings.Contains(text, "compareceu") {
		t.Fatalf("void receipt: %d", res.StatusCode)
	}
}

func TestAutoCompleteJobCompletesOverdueAndInvoices(t *testing.T) {
	env, clock := newClinicEnv(t)
	doc, _ := env.Doctor("Dr. Forgetful", "Dermatology", -23.5, -46.6)
	pat, _, _ := env.Patient("Pedro")
	overdue := heldAppointment(t, env, clock, doc, pat, time.Hour)
	later := heldAppointment(t, env, clock, doc, pat, 72*time.Hour)
	requestedSlot := createSlot(t, env, doc, clock.Now().Add(2*time.Hour), 50)
	requested := book(t, env, pat, requestedSlot)

	ctx := context.Background()
	job := env.App.Agenda
	// The meeting ended, but less than a day ago: nothing yet.
	if n, err := job.CompleteOverdue(ctx, clock.Now().Add(12*time.Hour)); err != nil || n != 0 {
		t.Fatalf("12 h later: %d %v", n, err)
	}
	n, err := job.CompleteOverdue(ctx, clock.Now().Add(30*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("30 h later: completed %d (%v), want 1", n, err)
	}
	if n, _ := job.CompleteOverdue(ctx, clock.Now().Add(30*time.Hour)); n != 0 {
		t.Fatalf("second run completed %d again", n)
	}
	status := func(id string) string {
		var out struct{ Node struct{ Status string } }
		env.Do(pat, `query($id: ID!) { node(id: $id) { ... on Appointment { status } } }`, map[string]any{"id": id}).Decode(t, &out)
		return out.Node.Status
	}
	for id, want := range map[string]string{overdue: "COMPLETED", later: "ACCEPTED", requested: "REQUESTED"} {
		if got := status(id); got != want {
			t.Fatalf("appointment %s: %s, want %s", id, got, want)
		}
	}
	var out struct {
		Node struct {
			Invoice struct {
				AmountCents      int
				IssuedBy, Status string
			}
		}
	}
	env.Do(doc, `query($id: ID!) { node(id: $id) { ... on Appointment { invoice { amountCents issuedBy status } } } }`,
		map[string]any{"id": overdue}).Decode(t, &out)
	if inv := out.Node.Invoice; inv.AmountCents != 25000 || inv.IssuedBy != "SYSTEM" || inv.Status != "OPEN" {
		t.Fatalf("auto invoice %+v", inv)
	}
	sys := sysCtx()
	if n, err := env.DB.Client.Invoice.Query().Where(invoice.IssuedByEQ(invoice.IssuedBySYSTEM)).Count(sys); err != nil || n != 1 {
		t.Fatalf("%d system invoices (%v)", n, err)
	}
	if n, _ := env.DB.Client.Appointment.Query().Where(appointment.StatusEQ(appointment.StatusCOMPLETED)).Count(sys); n != 1 {
		t.Fatalf("%d completed appointments", n)
	}
}

func TestConsultationReportGoesToThePatientsRecord(t *testing.T) {
	env, clock := newClinicEnv(t)
	doc, _ := env.Doctor("Dr. Relato", "Neurology", -23.5, -46.6)
	otherDoc, _ := env.Doctor("Dr. Alheio", "Neurology", -23.5, -46.6)
	pat, _, _ := env.Patient("Regina")
	notYet := heldAppointment(t, env, clock, doc, pat, time.Hour)
	text := map[string]any{"text": "Cefaleia tensional. Retorno em 30 dias."}
	if r := env.Do(doc, attachOp, map[string]any{"id": notYet, "in": text}); r.Code() != "CONFLICT" {
		t.Fatalf("report before completion: %q", r.Code())
	}
	clock.Advance(2 * time.Hour)
	if r := env.Do(doc, completeOp, map[string]any{"id": notYet}); r.Code() != "" {
		t.Fatalf("complete: %+v", r.Errors)
	}
	for name, tc := range map[string]struct{ token, code string }{
		"other doctor": {otherDoc, "NOT_FOUND"}, "patient": {pat, "FORBIDDEN"}, "anonymous": {"", "UNAUTHENTICATED"},
	} {
		if r := env.Do(tc.token, attachOp, map[string]any{"id": notYet, "in": text}); r.Code() != tc.code {
			t.Fatalf("%s: %q, want %q", name, r.Code(), tc.code)
		}
	}
	if r := env.Do(doc, attachOp, map[string]any{"id": notYet, "in": map[string]any{"text": "  "}}); r.Code() != "BAD_USER_INPUT" {
		t.Fatalf("empty report: %q", r.Code())
	}
	var out struct {
		AttachConsultationReport struct {
			ID, Title, Category, ContentType string
			Tags                             []string
		}
	}
	env.Do(doc, attachOp, map[string]any{"id": notYet, "in": text}).Decode(t, &out)
	rep := out.AttachConsultationReport
	if rep.Category != "REPORT" || !strings.HasPrefix(rep.ContentType, "text/plain") || !strings.HasPrefix(rep.Title, "Relatório de consulta") {
		t.Fatalf("report %+v", rep)
	}
	var up struct {
		AttachConsultationReport struct{ Category, ContentType string }
	}
	env.Upload(doc, attachFileOp, map[string]any{"id": notYet, "in": map[string]any{"title": "Laudo"}, "file": nil},
		apptest.File{Name: "laudo.pdf", Content: []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")}).Decode(t, &up)
	if up.AttachConsultationReport.ContentType != "application/pdf" {
		t.Fatalf("uploaded report %+v", up)
	}
	var files struct {
		RecordFiles struct {
			Edges []struct{ Node struct{ ID, Category string } }
		}
	}
	env.Do(pat, reportFilesOp, nil).Decode(t, &files)
	if len(files.RecordFiles.Edges) != 2 {
		t.Fatalf("patient's REPORT files: %+v", files)
	}
	// The doctor cannot read the record for having written to it.
	if r := env.Do(doc, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": rep.ID}); r.Code() != "NOT_FOUND" {
		t.Fatalf("doctor reading the report back: %q", r.Code())
	}
}

// A list of appointments reads its invoices and coverage checks in one
// query each, not one per appointment. The batches learn the page's
// appointments when they are read, so the count holds however late the
// items' fields run on a busy machine (it once did not, under -race).
func TestAppointmentListBatchesInvoicesAndCoverage(t *testing.T) {
	env, clock := newClinicEnv(t)
	doc, _ := env.Doctor("Dr. Batch", "Cardiology", -23.5, -46.6)
	pat, _, _ := env.Patient("Ana")
	want := map[string]string{}
	for range 4 {
		id, inv := completedAppointment(t, env, clock, doc, pat)
		want[id] = inv.Number
	}
	const listOp = `{ appointments(first: 10) { edges { node { id invoice { number } coverage { status } } } } }`
	var out struct {
		Appointments struct {
			Edges []struct {
				Node struct {
					ID       string
					Invoice  *struct{ Number string }
					Coverage *struct{ Status string }
				}
			}
		}
	}
	var invoiceSQL, coverageSQL []string
	invoiceSQL = env.StatementsDuring("invoices", func() {
		coverageSQL = env.StatementsDuring("coverage_checks", func() {
			env.Do(pat, listOp, nil).Decode(t, &out)
		})
	})
	if len(out.Appointments.Edges) != 4 {
		t.Fatalf("%d appointments listed, want 4", len(out.Appointments.Edges))
	}
	for _, e := range out.Appointments.Edges {
		if e.Node.Invoice == nil || e.Node.Invoice.Number != want[e.Node.ID] {
			t.Fatalf("appointment %s: invoice %+v, want %s", e.Node.ID, e.Node.Invoice, want[e.Node.ID])
		}
		if e.Node.Coverage != nil {
			t.Fatalf("appointment %s has coverage %+v without a plan", e.Node.ID, e.Node.Coverage)
		}
	}
	if len(invoiceSQL) != 1 || len(coverageSQL) != 1 {
		t.Fatalf("%d invoice and %d coverage queries for 4 appointments, want 1 each:\n%v\n%v",
			len(invoiceSQL), len(coverageSQL), invoiceSQL, coverageSQL)
	}
}
