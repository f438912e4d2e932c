package record

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/auditevent"
	"github.com/healthmed/healthmed/ent/recordfile"
	"github.com/healthmed/healthmed/internal/gqlerr"
)

// MaxReportText bounds a consultation report given as text.
const MaxReportText = 100_000

// NewFile is a file to add to a patient's record on someone else's
// behalf: a doctor's consultation report, or the server's own document.
type NewFile struct {
	Title    string
	Category recordfile.Category
	Tags     []string
	FileName string
	Body     io.ReadSeeker
	Size     int64
}

// AddFile stores bytes in a patient's record as the viewer in ctx: the
// record file's privacy policy decides whether that viewer may (the
// system may; a doctor may add a REPORT to the record of a patient with
// whom they have a completed appointment). The bytes are sniffed,
// encrypted and stored exactly as a patient's own upload, the change is
// in the access log, and a rollback removes the stored bytes again.
func (s *Service) AddFile(ctx context.Context, patientID int, f NewFile) (*ent.RecordFile, error) {
	switch {
	case f.Size > s.MaxBytes:
		return nil, gqlerr.TooLarge(fmt.Sprintf("a file has at most %d MiB", s.MaxBytes>>20))
	case f.Size <= 0:
		return nil, gqlerr.BadInput("file", "the file is empty")
	}
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(f.Body, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	contentType := sniff(head[:n], int64(n) == f.Size)
	if contentType == "" {
		return nil, gqlerr.BadInput("file", "only PDF, PNG, JPEG, DICOM and plain UTF-8 text files are accepted")
	}
	if _, err := f.Body.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	sealed, err := s.seal(ctx, f.Body, f.Size, contentType == textPlain)
	if err != nil {
		return nil, err
	}
	rf, err := s.db(ctx).RecordFile.Create().
		SetPatientID(patientID).SetTitle(f.Title).SetCategory(f.Category).SetTags(f.Tags).
		SetFileName(fileNameFor(f.FileName, contentType)).SetContentType(contentType).
		SetSizeBytes(f.Size).SetSha256(sealed.sha256).
		SetStorageKey(sealed.key).SetWrappedKey(sealed.wrappedKey).
		Save(ctx)
	if err == nil {
		// The row names the doctor (or the server) as the actor.
		err = s.logChange(ctx, access{action: auditevent.ActionUPLOAD, patientID: patientID, fileID: rf.ID})
	}
	if err != nil {
		s.discard(ctx, sealed.key)
		return nil, err
	}
	s.discardOnRollback(ctx, sealed.key)
	return rf, nil
}

// AttachConsultationReport adds the signed-in doctor's report of one of
// their completed appointments to the patient's record, as a REPORT:
// either text or an uploaded file, exactly one of them.
func (s *Service) AttachConsultationReport(ctx context.Context, appointmentID int, in ConsultationReportInput, file *graphql.Upload) (*ent.RecordFile, error) {
	title, text, tags := in.Title, in.Text, in.Tags
	a, err := s.db(ctx).Appointment.Query().Where(appointment.ID(appointmentID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, gqlerr.NotFoundError("appointment")
	}
	if err != nil {
		return nil, err
	}
	if a.Status != appointment.StatusCOMPLETED {
		return nil, gqlerr.ConflictError(gqlerr.ReasonInvalidTransition, "a report is attached to a completed appointment")
	}
	t := "Relatório de consulta " + a.StartsAt.UTC().Format("2006-01-02")
	if title != nil {
		if t, err = cleanTitle("input.title", *title); err != nil {
			return nil, err
		}
	}
	if tags == nil {
		tags = []string{"consulta"}
	}
	if tags, err = cleanTags("input.tags", tags); err != nil {
		return nil, err
	}
	nf := NewFile{Title: t, Category: recordfile.CategoryREPORT, Tags: tags}
	switch {
	case file != nil && text != nil:
		return nil, gqlerr.BadInput("input.text", "give the report as text or as a file, not both")
	case file != nil:
		nf.FileName, nf.Body, nf.Size = file.Filename, file.File, file.Size
	case text != nil && strings.TrimSpace(*text) != "":
		body := strings.TrimSpace(*text) + "\n"
		if len(body) > MaxReportText {
			return nil, gqlerr.BadInput("input.text", "the report has at most %d bytes", MaxReportText)
		}
		nf.FileName = "relatorio-consulta-" + strconv.Itoa(a.ID) + ".txt"
		nf.Body, nf.Size = bytes.NewReader([]byte(body)), int64(len(body))
	default:
		return nil, gqlerr.BadInput("input.text", "the report's text or file is required")
	}
	return s.AddFile(ctx, a.PatientID, nf)
}
