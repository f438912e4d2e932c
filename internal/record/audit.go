package record

import (
	"context"
	"reflect"
	"slices"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/auditevent"
	"github.com/healthmed/healthmed/ent/patient"
	"github.com/healthmed/healthmed/ent/recordfile"
	"github.com/healthmed/healthmed/ent/recordshare"
	"github.com/healthmed/healthmed/internal/rule"
	"github.com/healthmed/healthmed/internal/viewer"
)

// access is one audit row in the making; zero ids are unknown.
type access struct {
	action    auditevent.Action
	allowed   bool
	patientID int
	fileID    int
	shareID   int
	detail    string
}

// logAccess records accesses made by the viewer in ctx, those worth
// keeping, within the viewer's budget (RATE_LIMITED past it). It writes
// with the root client, outside the transaction a mutation may hold, and
// with a context that ignores the request's cancellation: a denial that
// fails the request, or a client that hangs up, still leaves its row.
func (s *Service) logAccess(ctx context.Context, rows ...access) error {
	v := viewer.FromContext(ctx)
	rows = worthKeeping(v, rows)
	if err := s.Budget.take(v, rows); err != nil {
		return err
	}
	return s.writeAudit(context.WithoutCancel(ctx), s.Client, rows...)
}

// logChange records a change to the record (upload, share, revoke,
// delete) inside the mutation's transaction: if the change rolls back, it
// did not happen and its row goes with it.
func (s *Service) logChange(ctx context.Context, row access) error {
	row.allowed = true
	return s.writeAudit(ctx, s.db(ctx), row)
}

func (s *Service) writeAudit(ctx context.Context, c *ent.Client, rows ...access) error {
	if len(rows) == 0 {
		return nil
	}
	v := viewer.FromContext(ctx)
	builders := make([]*ent.AuditEventCreate, len(rows))
	for i, a := range rows {
		b := c.AuditEvent.Create().SetAction(a.action).SetAllowed(a.allowed).
			SetActorRole(v.Role.String()).SetClientAddr(v.ClientAddr)
		if v.ID != 0 {
			b.SetActorID(v.ID)
		}
		if a.patientID != 0 {
			b.SetPatientID(a.patientID)
		}
		if a.fileID != 0 {
			b.SetRecordFileID(a.fileID)
		}
		if a.shareID != 0 {
			b.SetShareID(a.shareID)
		}
		if a.detail != "" {
			b.SetDetail(a.detail)
		}
		builders[i] = b
	}
	return c.AuditEvent.CreateBulk(builders...).Exec(ctx)
}

// Viewed logs every file a doctor's query returned as a view of its
// metadata, with the share that let the doctor in; others' reads log
// nothing here. The RecordFile schema's interceptor calls it whichever
// path the query took (sharedRecords, node(id:), nodes, a share's files
// edge); if the rows cannot be written the query fails, so no view goes
// unrecorded.
func (s *Service) Viewed(ctx context.Context, fileIDs []int) error {
	v := viewer.FromContext(ctx)
	if !v.IsDoctor() || len(fileIDs) == 0 {
		return nil
	}
	rows, err := s.doctorViews(ctx, v.ID, fileIDs)
	if err != nil {
		return err
	}
	return s.logAccess(ctx, rows...)
}

// doctorViews describes the doctor's views of the files: whose they are
// and which share let the doctor in. The files are read again, as the
// system, because the doctor's query may have selected only some columns.
func (s *Service) doctorViews(ctx context.Context, doctorID int, fileIDs []int) ([]access, error) {
	sys := viewer.SystemContext(ctx)
	files, err := s.Client.RecordFile.Query().Where(recordfile.IDIn(fileIDs...)).
		Select(recordfile.FieldID, recordfile.FieldPatientID, recordfile.FieldCategory, recordfile.FieldTags).
		All(sys)
	if err != nil {
		return nil, err
	}
	shares, err := s.coveringShares(ctx, doctorID, files)
	if err != nil {
		return nil, err
	}
	rows := make([]access, len(files))
	for i, f := range files {
		rows[i] = access{action: auditevent.ActionVIEW_METADATA, allowed: true,
			patientID: f.PatientID, fileID: f.ID, shareID: shares[f.ID]}
	}
	return rows, nil
}

// coveringShares names, for each file (with its patient, category and
// tags loaded), a live share of the doctor that covers it: by id first, then by category, then by tag, the oldest share
// first. The privacy rule decides access; this only says which share the
// audit row should name.
func (s *Service) coveringShares(ctx context.Context, doctorID int, files []*ent.RecordFile) (map[int]int, error) {
	var patients []int
	for _, f := range files {
		if !slices.Contains(patients, f.PatientID) {
			patients = append(patients, f.PatientID)
		}
	}
	shares, err := s.Client.RecordShare.Query().
		Where(recordshare.PatientIDIn(patients...), rule.LiveShareOf(doctorID)).
		WithFiles(func(q *ent.RecordFileQuery) { q.Select(recordfile.FieldID) }).
		Order(ent.Asc(recordshare.FieldID)).
		All(viewer.SystemContext(ctx))
	if err != nil {
		return nil, err
	}
	out := make(map[int]int, len(files))
	for _, f := range files {
		for _, match := range []func(*ent.RecordShare) bool{
			func(sh *ent.RecordShare) bool {
				return slices.ContainsFunc(sh.Edges.Files, func(sf *ent.RecordFile) bool { return sf.ID == f.ID })
			},
			func(sh *ent.RecordShare) bool { return slices.Contains(sh.Categories, string(f.Category)) },
			func(sh *ent.RecordShare) bool {
				return slices.ContainsFunc(f.Tags, func(t string) bool { return slices.Contains(sh.Tags, t) })
			},
		} {
			if i := slices.IndexFunc(shares, func(sh *ent.RecordShare) bool { return sh.PatientID == f.PatientID && match(sh) }); i >= 0 {
				out[f.ID] = shares[i].ID
				break
			}
		}
	}
	return out, nil
}

// AuditNode is for node(id:): a refused lookup returns nothing, so the
// interceptor above never sees it; this logs one denied row when a doctor
// asked for a record file and was not given it. Anyone else's misses are
// no access attempt worth a row (see AllowAuditAppend). It returns the
// lookup's answer, or the logging's error. The resolver calls it, rather
// than a field middleware that every field of every response would go
// through.
func (s *Service) AuditNode(ctx context.Context, id int, n ent.Noder, err error) (ent.Noder, error) {
	if err != nil || isNil(n) {
		if lerr := s.logRefusedFiles(ctx, []int{id}); lerr != nil {
			return nil, lerr
		}
	}
	return n, err
}

// AuditNodes is AuditNode for nodes(ids:): a row for each record file
// id a doctor was not given.
func (s *Service) AuditNodes(ctx context.Context, ids []int, ns []ent.Noder, err error) ([]ent.Noder, error) {
	var missed []int
	for i, id := range ids {
		if err != nil || i >= len(ns) || isNil(ns[i]) {
			missed = append(missed, id)
		}
	}
	if lerr := s.logRefusedFiles(ctx, missed); lerr != nil {
		return nil, lerr
	}
	return ns, err
}

// isNil sees through an interface holding a typed nil pointer, which is
// what a failed Ent lookup returns as a Noder.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

func (s *Service) logRefusedFiles(ctx context.Context, ids []int) error {
	v := viewer.FromContext(ctx)
	if len(ids) == 0 || !v.IsDoctor() {
		return nil
	}
	files, err := s.Client.RecordFile.Query().Where(recordfile.IDIn(ids...)).
		Select(recordfile.FieldID, recordfile.FieldPatientID).All(viewer.SystemContext(ctx))
	if err != nil {
		return err
	}
	var rows []access
	for _, f := range files {
		rows = append(rows, access{action: auditevent.ActionVIEW_METADATA, patientID: f.PatientID,
			fileID: f.ID, detail: "no access"})
	}
	return s.logAccess(ctx, rows...)
}

// logRefusedRecord logs a doctor's denied attempt at a patient's whole
// record (a list that returned nothing), when the patient exists.
func (s *Service) logRefusedRecord(ctx context.Context, patientID int, detail string) error {
	exists, err := s.Client.Patient.Query().Where(patient.ID(patientID)).Exist(viewer.SystemContext(ctx))
	if err != nil || !exists {
		return err
	}
	return s.logAccess(ctx, access{action: auditevent.ActionVIEW_METADATA, patientID: patientID, detail: detail})
}
