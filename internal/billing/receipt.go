package billing

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/invoice"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/validate"
	"github.com/healthmed/healthmed/internal/viewer"
)

// FormatBRL writes centavos as Brazilian reais: R$ 1.234,56.
func FormatBRL(cents int) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	whole := strconv.Itoa(cents / 100)
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	return fmt.Sprintf("%sR$ %s,%02d", sign, b.String(), cents%100)
}

// formatCPF writes 11 digits as 123.456.789-09.
func formatCPF(cpf string) string {
	if len(cpf) != 11 {
		return cpf
	}
	return cpf[:3] + "." + cpf[3:6] + "." + cpf[6:9] + "-" + cpf[9:]
}

// Receipt renders one of the viewer's invoices as a PDF: a receipt once
// paid, an invoice while open, marked cancelled once void. The patient's
// full CPF and the doctor's CRM are on it, as a receipt for a tax return
// needs them; only the two parties can download it.
func (s *Service) Receipt(ctx context.Context, id int) ([]byte, error) {
	// Its route admits doctors and patients, and the privacy rule decides
	// whether the invoice is the viewer's; its parties are then read as the
	// server, for the names on the paper.
	inv, err := s.Client.Invoice.Query().Where(invoice.ID(id)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, gqlerr.NotFoundError("invoice")
	}
	if err != nil {
		return nil, err
	}
	sys := viewer.SystemContext(ctx)
	inv, err = s.Client.Invoice.Query().Where(invoice.ID(inv.ID)).WithDoctor().WithPatient().Only(sys)
	if err != nil {
		return nil, err
	}
	return s.render(inv)
}

func (s *Service) render(inv *ent.Invoice) ([]byte, error) {
	d, p := inv.Edges.Doctor, inv.Edges.Patient
	title := "Fatura de consulta"
	switch inv.Status {
	case invoice.StatusPAID:
		title = "Recibo de consulta"
	case invoice.StatusVOID:
		title = "Fatura cancelada"
	}
	day := func(t time.Time) string { return t.In(s.loc()).Format("02/01/2006") }
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetTitle(title+" "+inv.Number, true)
	pdf.SetAuthor("healthmed", true)
	pdf.SetCreator("healthmed", true)
	pdf.SetCreationDate(inv.IssuedAt)
	pdf.SetModificationDate(inv.UpdatedAt)
	tr := pdf.UnicodeTranslatorFromDescriptor("") // UTF-8 to the core fonts' cp1252
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 18)
	pdf.CellFormat(0, 12, tr(title), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 11)
	pdf.CellFormat(0, 7, tr("Nº "+inv.Number+"  ·  emitido em "+day(inv.IssuedAt)), "", 1, "L", false, 0, "")
	pdf.Ln(6)
	row := func(label, value string) {
		pdf.SetFont("Helvetica", "B", 11)
		pdf.CellFormat(45, 8, tr(label), "", 0, "L", false, 0, "")
		pdf.SetFont("Helvetica", "", 11)
		pdf.MultiCell(0, 8, tr(value), "", "L", false)
	}
	row("Profissional", fmt.Sprintf("%s, CRM %s, %s", d.Name, validate.FormatCRM(d.CrmNumber, d.CrmState), d.Specialty))
	row("Paciente", fmt.Sprintf("%s, CPF %s", p.Name, formatCPF(p.Cpf)))
	row("Serviço", "Teleconsulta médica em "+inv.ServiceAt.In(s.loc()).Format("02/01/2006 15:04"))
	pdf.Ln(4)
	pdf.SetFont("Helvetica", "B", 14)
	pdf.CellFormat(45, 10, tr("Valor"), "", 0, "L", false, 0, "")
	pdf.CellFormat(0, 10, tr(FormatBRL(inv.AmountCents)), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 11)
	switch inv.Status {
	case invoice.StatusPAID:
		row("Situação", "Pago em "+day(*inv.PaidAt))
	case invoice.StatusVOID:
		reason := ""
		if inv.VoidReason != nil {
			reason = ": " + *inv.VoidReason
		}
		row("Situação", "Cancelada em "+day(*inv.VoidedAt)+reason)
	default:
		row("Situação", "Em aberto")
	}
	pdf.Ln(10)
	pdf.SetFont("Helvetica", "I", 9)
	pdf.MultiCell(0, 5, tr("Documento emitido eletronicamente por healthmed."), "", "L", false)
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("render receipt: %w", err)
	}
	return buf.Bytes(), nil
}
