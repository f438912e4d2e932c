// Package billing issues an invoice for every completed appointment, lets
// the doctor settle or void it, and renders it as a PDF receipt.
//
// Invoices are rows of their own, written by the server (the system
// viewer) in the transaction that completes the appointment: a completion
// that rolls back leaves no invoice, and the unique index on the
// appointment keeps a second one from ever being issued.
package billing

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"entgo.io/contrib/entgql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/invoice"
	"github.com/healthmed/healthmed/internal/clock"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/loader"
	"github.com/healthmed/healthmed/internal/scalar"
	"github.com/healthmed/healthmed/internal/txn"
	"github.com/healthmed/healthmed/internal/viewer"
)

// MaxReasonLength bounds a void reason.
const MaxReasonLength = 500

// Service holds billing's dependencies.
type Service struct {
	Client *ent.Client
	// PublicURL prefixes receipt links.
	PublicURL string
	// Location is the clinic's time zone, for dates on receipts.
	Location *time.Location
	Log      *slog.Logger
	Now      func() time.Time

	once     sync.Once
	invoices *loader.PerResponse[int, *ent.Invoice]
}

func (s *Service) now() time.Time { return clock.UTC(s.Now) }

func (s *Service) loc() *time.Location {
	if s.Location != nil {
		return s.Location
	}
	return time.UTC
}

func (s *Service) db(ctx context.Context) *ent.Client { return txn.Client(ctx, s.Client) }

// Completed issues the invoice of an appointment that has just become
// COMPLETED: its price at booking time, to its patient, from its doctor,
// numbered from the invoice sequence. The server's own completions (the
// system viewer) are marked SYSTEM, the doctor's DOCTOR. It is a reaction
// of the Appointment schema: c is the completion's transaction, so a
// completion that rolls back leaves no invoice.
func Completed(ctx context.Context, c *ent.Client, a *ent.Appointment) error {
	by := invoice.IssuedByDOCTOR
	if viewer.FromContext(ctx).IsSystem() {
		by = invoice.IssuedBySYSTEM
	}
	sys := viewer.SystemContext(ctx)
	rows, err := c.QueryContext(sys, `SELECT nextval('invoice_numbers')`)
	if err != nil {
		return fmt.Errorf("invoice number: %w", err)
	}
	var n int64
	for rows.Next() {
		err = rows.Scan(&n)
	}
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = rows.Err()
	}
	if err != nil || n == 0 {
		return fmt.Errorf("invoice number: %v", err)
	}
	return c.Invoice.Create().
		SetNumber(FormatNumber(n)).SetAppointmentID(a.ID).SetPatientID(a.PatientID).SetDoctorID(a.DoctorID).
		SetAmountCents(a.PriceCents).SetIssuedBy(by).SetServiceAt(a.StartsAt).SetIssuedAt(c.Reactions.NowUTC()).
		Exec(sys)
}

// FormatNumber is an invoice number as printed: HM-00000042.
func FormatNumber(n int64) string { return fmt.Sprintf("HM-%08d", n) }

// MarkPaid settles one of the signed-in doctor's open invoices.
func (s *Service) MarkPaid(ctx context.Context, id int) (*ent.Invoice, error) {
	inv, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	return inv.Update().SetStatus(invoice.StatusPAID).SetPaidAt(s.now()).Save(ctx)
}

// Void cancels one of the signed-in doctor's open invoices; the reason
// is required and kept.
func (s *Service) Void(ctx context.Context, id int, reason string) (*ent.Invoice, error) {
	r := strings.TrimSpace(reason)
	if r == "" {
		return nil, gqlerr.BadInput("reason", "a reason is required")
	}
	if utf8.RuneCountInString(r) > MaxReasonLength {
		return nil, gqlerr.BadInput("reason", "reason has at most %d characters", MaxReasonLength)
	}
	inv, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	return inv.Update().SetStatus(invoice.StatusVOID).SetVoidedAt(s.now()).SetVoidReason(r).Save(ctx)
}

// load locks an open invoice of the signed-in doctor. Anyone else's
// invoice reads as absent (the privacy rule), as does any invoice for
// anyone but a doctor (the schema's @hasRole).
func (s *Service) load(ctx context.Context, id int) (*ent.Invoice, error) {
	inv, err := s.db(ctx).Invoice.Query().Where(invoice.ID(id)).ForUpdate().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, gqlerr.NotFoundError("invoice")
	}
	if err != nil {
		return nil, err
	}
	if inv.Status != invoice.StatusOPEN {
		return nil, gqlerr.ConflictError(gqlerr.ReasonInvalidTransition, "the invoice is "+string(inv.Status)+", not OPEN")
	}
	return inv, nil
}

// Invoices lists the signed-in patient's or doctor's invoices, newest
// first; the privacy rule keeps everyone to their own.
func (s *Service) Invoices(ctx context.Context, first *int, after *entgql.Cursor[int], status *invoice.Status) (*ent.InvoiceConnection, error) {
	n, err := gqlerr.Page(first, 20, 100)
	if err != nil {
		return nil, err
	}
	if err := scalar.Expect(after, scalar.KindTime); err != nil {
		return nil, err
	}
	q := s.Client.Invoice.Query()
	if status != nil {
		q.Where(invoice.StatusEQ(*status))
	}
	if q, err = q.CollectFields(ctx); err != nil {
		return nil, err
	}
	return q.Paginate(ctx, after, &n, nil, nil, ent.WithInvoiceOrder(&ent.InvoiceOrder{
		Direction: entgql.OrderDirectionDesc, Field: ent.InvoiceOrderFieldIssuedAt,
	}))
}

// ForAppointment is Appointment.invoice: nil until it is completed.
func (s *Service) ForAppointment(ctx context.Context, a *ent.Appointment) (*ent.Invoice, error) {
	if a.Status != appointment.StatusCOMPLETED {
		return nil, nil
	}
	// In a mutation the invoice may be the transaction's own, not yet
	// visible to the batch, which reads outside it.
	if ent.FromContext(ctx) == nil {
		if inv, ok, err := s.batch().Load(ctx, a.ID); ok {
			return inv, err
		}
	}
	inv, err := s.db(ctx).Invoice.Query().Where(invoice.AppointmentID(a.ID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return inv, err
}

// WithLoaders prepares one response's batched look-ups: a list of
// appointments asks for their invoices in one query.
func (s *Service) WithLoaders(ctx context.Context) context.Context { return s.batch().Install(ctx) }

// AppointmentsRead names to the response's batch the appointments a
// query has read: their invoices are then read together (see
// loader.Loader.Expect).
func (s *Service) AppointmentsRead(ctx context.Context, ids []int) { s.batch().Expect(ctx, ids) }

// batch reads as the viewer: privacy leaves out what they may not see,
// which then reads as no invoice.
func (s *Service) batch() *loader.PerResponse[int, *ent.Invoice] {
	s.once.Do(func() {
		s.invoices = loader.NewPerResponse(loader.ByKey(func(ctx context.Context, ids []int) ([]*ent.Invoice, error) {
			return s.Client.Invoice.Query().Where(invoice.AppointmentIDIn(ids...)).All(ctx)
		}, func(inv *ent.Invoice) int { return inv.AppointmentID }))
	})
	return s.invoices
}

// ReceiptURL is where the invoice's PDF is downloaded, with the viewer's
// bearer token.
func (s *Service) ReceiptURL(inv *ent.Invoice) string {
	return fmt.Sprintf("%s/invoices/%d/receipt.pdf", strings.TrimRight(s.PublicURL, "/"), inv.ID)
}
