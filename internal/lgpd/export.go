// Package lgpd serves the data subject's rights under Brazil's LGPD (Lei
// 13.709/2018) for patients: a full export of their data (art. 18, V) and
// the deactivation of their account (art. 18, VI), which anonymises the
// non-clinical personal data and keeps what the law requires be kept.
package lgpd

import (
	"archive/zip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/auditevent"
	"github.com/healthmed/healthmed/ent/feedback"
	"github.com/healthmed/healthmed/ent/notification"
	"github.com/healthmed/healthmed/ent/session"
	"github.com/healthmed/healthmed/ent/waitlistentry"
	"github.com/healthmed/healthmed/internal/clock"
	"github.com/healthmed/healthmed/internal/record"
	"github.com/healthmed/healthmed/internal/requestid"
	"github.com/healthmed/healthmed/internal/viewer"
)

// Service holds what the two rights need.
type Service struct {
	Client  *ent.Client
	Records *record.Service
	Log     *slog.Logger
	Now     func() time.Time
	// Passwords confirms the signed-in account's password, through the
	// throttle its logins and other confirmations share.
	Passwords interface {
		ConfirmPassword(ctx context.Context, field, password string) error
	}
	// SignIns, when set, forgets the sign-ins this replica remembers as
	// live once a deactivation commits, so that the patient's tokens
	// stop working here at once.
	SignIns interface{ ForgetLiveSignIns() }
}

func (s *Service) now() time.Time { return clock.UTC(s.Now) }

// ServeExport serves GET /me/export (for patients, as its route declares): a
// ZIP with data.json and every file of the record, decrypted. Each file's
// export is written to the access log.
func (s *Service) ServeExport(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	data, err := s.collect(ctx, viewer.FromContext(ctx).ID)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", `attachment; filename="healthmed-export-`+s.now().Format("20060102")+`.zip"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	zw := zip.NewWriter(w)
	files, err := s.Records.ExportOwnFiles(ctx, func(name string) (io.Writer, error) {
		return zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: s.now()})
	})
	if err == nil {
		data.Files = files
		var jw io.Writer
		if jw, err = zw.Create("data.json"); err == nil {
			enc := json.NewEncoder(jw)
			enc.SetIndent("", "  ")
			err = enc.Encode(data)
		}
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		// The archive is already streaming: cut the connection so the
		// client sees a broken download, never a truncated ZIP.
		s.Log.ErrorContext(ctx, "data export", "err", err.Error(), "request_id", requestid.FromContext(ctx))
		panic(http.ErrAbortHandler)
	}
	return nil
}

// Export is data.json: everything the server holds about the patient.
type Export struct {
	ExportedAt    time.Time            `json:"exportedAt"`
	Patient       *ent.Patient         `json:"patient"`
	Appointments  []*ent.Appointment   `json:"appointments"`
	Feedback      []*ent.Feedback      `json:"feedback"`
	Shares        []*ent.RecordShare   `json:"shares"`
	Files         []*ent.RecordFile    `json:"files"`
	AccessLog     []*ent.AuditEvent    `json:"accessLog"`
	Notifications []*ent.Notification  `json:"notifications"`
	Invoices      []*ent.Invoice       `json:"invoices"`
	InsurancePlan []*ent.InsurancePlan `json:"insurancePlan"`
	Coverage      []*ent.CoverageCheck `json:"coverageChecks"`
	// SignIns are the account's sessions (when each began, was refreshed,
	// ends or was revoked); their tokens are not kept, so not exported.
	SignIns []*ent.Session `json:"signIns"`
	// Waitlist is every line the patient joined, left or booked from.
	Waitlist []*ent.WaitlistEntry `json:"waitlist"`
	Doctors  map[string]string    `json:"doctors"`
	Notes    map[string]string    `json:"notes"`
}

// collect reads the patient's data as the patient: the privacy policies
// narrow every read to the patient's own rows, as for every other read.
func (s *Service) collect(ctx context.Context, id int) (*Export, error) {
	p, err := s.Client.Patient.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	out := &Export{ExportedAt: s.now(), Patient: p, Doctors: map[string]string{},
		Notes: map[string]string{"files": "the files/ folder holds each file of the record, decrypted"}}
	if out.Appointments, err = s.Client.Appointment.Query().
		WithDoctor().Order(ent.Asc(appointment.FieldStartsAt)).All(ctx); err != nil {
		return nil, err
	}
	for _, a := range out.Appointments {
		if a.Edges.Doctor != nil {
			out.Doctors[strconv.Itoa(a.DoctorID)] = a.Edges.Doctor.Name
		}
	}
	// Ratings are public: this query names the patient itself.
	if out.Feedback, err = s.Client.Feedback.Query().Where(feedback.PatientID(id)).All(ctx); err != nil {
		return nil, err
	}
	if out.Shares, err = s.Client.RecordShare.Query().All(ctx); err != nil {
		return nil, err
	}
	if out.Notifications, err = s.Client.Notification.Query().
		Order(ent.Asc(notification.FieldID)).All(ctx); err != nil {
		return nil, err
	}
	if out.Invoices, err = s.Client.Invoice.Query().All(ctx); err != nil {
		return nil, err
	}
	// The card number stays sealed: only its last four digits are exported.
	if out.InsurancePlan, err = s.Client.InsurancePlan.Query().All(ctx); err != nil {
		return nil, err
	}
	if out.Coverage, err = s.Client.CoverageCheck.Query().All(ctx); err != nil {
		return nil, err
	}
	// Who, when, what and whether allowed; the actors' network addresses
	// are theirs, not the patient's data.
	if out.AccessLog, err = s.Client.AuditEvent.Query().
		Select(auditevent.FieldID, auditevent.FieldCreatedAt, auditevent.FieldAction, auditevent.FieldAllowed,
			auditevent.FieldActorRole, auditevent.FieldActorID, auditevent.FieldPatientID, auditevent.FieldRecordFileID,
			auditevent.FieldShareID, auditevent.FieldDetail).
		Order(ent.Asc(auditevent.FieldCreatedAt)).All(ctx); err != nil {
		return nil, err
	}
	if out.Waitlist, err = s.Client.WaitlistEntry.Query().
		Order(ent.Asc(waitlistentry.FieldID)).All(ctx); err != nil {
		return nil, err
	}
	// Sessions are the server's own records, readable by nobody through
	// the API: the query names the patient itself.
	if out.SignIns, err = s.Client.Session.Query().
		Where(session.RoleEQ(session.RolePATIENT), session.AccountID(id)).
		Order(ent.Asc(session.FieldID)).All(viewer.SystemContext(ctx)); err != nil {
		return nil, err
	}
	return out, nil
}
