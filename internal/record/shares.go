package record

import (
	"context"
	"slices"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/auditevent"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/ent/patient"
	"github.com/healthmed/healthmed/ent/recordfile"
	"github.com/healthmed/healthmed/ent/recordshare"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/rule"
	"github.com/healthmed/healthmed/internal/viewer"
)

const (
	// MaxShareDuration bounds a share: access to health data is granted
	// for a treatment, not forever.
	MaxShareDuration = 180 * 24 * time.Hour
	maxShareFiles    = 200
	maxSharedList    = 500
	maxSharesList    = 500
)

// Share lets one doctor read part of the signed-in patient's record until
// it expires or is revoked.
func (s *Service) Share(ctx context.Context, in ShareInput) (*ent.RecordShare, error) {
	v := viewer.FromContext(ctx)
	// Opening the record to someone else waits for a verified e-mail:
	// the account's owner must be reachable about who reads it.
	if ok, err := s.db(ctx).Patient.Query().Where(patient.ID(v.ID), patient.EmailVerifiedAtNotNil()).
		Exist(viewer.SystemContext(ctx)); err != nil {
		return nil, err
	} else if !ok {
		return nil, gqlerr.EmailNotVerifiedError()
	}
	now := s.now()
	switch {
	case !in.ExpiresAt.After(now):
		return nil, gqlerr.BadInput("input.expiresAt", "a share expires in the future")
	case in.ExpiresAt.After(now.Add(MaxShareDuration)):
		return nil, gqlerr.BadInput("input.expiresAt", "a share lasts at most %d days", int(MaxShareDuration.Hours()/24))
	case len(in.FileIds) == 0 && len(in.Categories) == 0 && len(in.Tags) == 0:
		return nil, gqlerr.BadInput("input", "name at least one of fileIds, categories or tags")
	case len(in.FileIds) > maxShareFiles:
		return nil, gqlerr.BadInput("input.fileIds", "at most %d files per share", maxShareFiles)
	}
	tags, err := cleanTags("input.tags", in.Tags)
	if err != nil {
		return nil, err
	}
	var categories []string
	for _, c := range in.Categories {
		if !slices.Contains(categories, string(c)) {
			categories = append(categories, string(c))
		}
	}
	fileIDs := slices.Compact(slices.Sorted(slices.Values(in.FileIds)))
	// Doctor profiles are public, so this reveals nothing.
	if ok, err := s.Client.Doctor.Query().Where(doctor.ID(in.DoctorID)).Exist(ctx); err != nil {
		return nil, err
	} else if !ok {
		return nil, gqlerr.BadInput("input.doctorId", "no such doctor")
	}
	if len(fileIDs) > 0 {
		// The privacy rule counts only the patient's own live files.
		n, err := s.db(ctx).RecordFile.Query().Where(recordfile.IDIn(fileIDs...)).Count(ctx)
		if err != nil {
			return nil, err
		}
		if n != len(fileIDs) {
			return nil, gqlerr.BadInput("input.fileIds", "every file must be one of your own")
		}
	}
	sh, err := s.db(ctx).RecordShare.Create().
		SetPatientID(v.ID).SetDoctorID(in.DoctorID).
		SetCategories(categories).SetTags(tags).SetExpiresAt(in.ExpiresAt.UTC()).
		AddFileIDs(fileIDs...).
		Save(ctx)
	if err != nil {
		return nil, err
	}
	return sh, s.logChange(ctx, access{action: auditevent.ActionSHARE, patientID: v.ID, shareID: sh.ID})
}

// Revoke ends a share now. Revoking a revoked share changes nothing.
func (s *Service) Revoke(ctx context.Context, id int) (*ent.RecordShare, error) {
	v := viewer.FromContext(ctx)
	sh, err := s.db(ctx).RecordShare.Query().Where(recordshare.ID(id)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, gqlerr.NotFoundError("share")
	}
	if err != nil || sh.RevokedAt != nil {
		return sh, err
	}
	if sh, err = sh.Update().SetRevokedAt(s.now()).Save(ctx); err != nil {
		return nil, err
	}
	return sh, s.logChange(ctx, access{action: auditevent.ActionREVOKE, patientID: v.ID, shareID: sh.ID})
}

// Shares lists the shares the signed-in patient made, newest first.
// The privacy rule shows a patient the shares they made.
func (s *Service) Shares(ctx context.Context) ([]*ent.RecordShare, error) {
	q, err := s.Client.RecordShare.Query().CollectFields(ctx)
	if err != nil {
		return nil, err
	}
	return q.Order(ent.Desc(recordshare.FieldCreatedAt), ent.Desc(recordshare.FieldID)).Limit(maxSharesList).All(ctx)
}

// Shared lists, for the signed-in doctor, the files of one patient that a
// live share covers, newest first. The privacy rule does the covering;
// ViewAuditor logs each file returned. A doctor without any live share
// from the patient gets an empty list and a denied row in the log; anyone
// else gets an error and no row, since only a doctor's attempt is one.
func (s *Service) Shared(ctx context.Context, patientID int) ([]*ent.RecordFile, error) {
	q, err := s.Client.RecordFile.Query().Where(recordfile.PatientID(patientID)).CollectFields(ctx)
	if err != nil {
		return nil, err
	}
	files, err := q.Order(ent.Desc(recordfile.FieldCreatedAt), ent.Desc(recordfile.FieldID)).Limit(maxSharedList).All(ctx)
	if err != nil || len(files) > 0 {
		return files, err
	}
	// The privacy rule keeps the shares to the caller's own.
	live, err := s.Client.RecordShare.Query().
		Where(recordshare.PatientID(patientID), rule.LiveShare()).Exist(ctx)
	if err != nil {
		return nil, err
	}
	if !live {
		if err := s.logRefusedRecord(ctx, patientID, "no live share"); err != nil {
			return nil, err
		}
	}
	return files, nil
}
