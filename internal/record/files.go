package record

import (
	"context"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqljson"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/auditevent"
	"github.com/healthmed/healthmed/ent/recordfile"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/scalar"
	"github.com/healthmed/healthmed/internal/viewer"
)

// Files lists the signed-in patient's own files, newest first.
func (s *Service) Files(ctx context.Context, first *int, after *entgql.Cursor[int], category *recordfile.Category, tag *string) (*ent.RecordFileConnection, error) {
	first, err := pageSize(first)
	if err != nil {
		return nil, err
	}
	if err := scalar.Expect(after, scalar.KindTime); err != nil {
		return nil, err
	}
	// The privacy rule shows a patient their own live files only.
	q := s.Client.RecordFile.Query()
	if category != nil {
		q.Where(recordfile.CategoryEQ(*category))
	}
	if tag != nil {
		t, err := cleanTag("tag", *tag)
		if err != nil {
			return nil, err
		}
		q.Where(func(s *sql.Selector) { s.Where(sqljson.ValueContains(recordfile.FieldTags, t)) })
	}
	if q, err = q.CollectFields(ctx); err != nil {
		return nil, err
	}
	return q.Paginate(ctx, after, first, nil, nil, ent.WithRecordFileOrder(&ent.RecordFileOrder{
		Direction: entgql.OrderDirectionDesc, Field: ent.RecordFileOrderFieldCreatedAt,
	}))
}

// Update renames, recategorises or retags one of the patient's files.
// Moving a file into a shared category or tag shares it, as a new file
// there would be.
func (s *Service) Update(ctx context.Context, id int, in UpdateRecordFileInput) (*ent.RecordFile, error) {
	// Ownership is the privacy rule's: the UPDATE carries patient_id = viewer.
	u := s.db(ctx).RecordFile.UpdateOneID(id).Where(recordfile.DeletedAtIsNil())
	if in.Title != nil {
		t, err := cleanTitle("input.title", *in.Title)
		if err != nil {
			return nil, err
		}
		u.SetTitle(t)
	}
	if in.Category != nil {
		u.SetCategory(*in.Category)
	}
	if in.Tags != nil {
		tags, err := cleanTags("input.tags", in.Tags)
		if err != nil {
			return nil, err
		}
		u.SetTags(tags)
	}
	f, err := u.Save(ctx)
	if ent.IsNotFound(err) {
		return nil, gqlerr.NotFoundError("record file")
	}
	return f, err
}

// Delete hides a file from every view and share at once. The bytes stay
// until PurgeDeleted erases them.
func (s *Service) Delete(ctx context.Context, id int) (int, error) {
	v := viewer.FromContext(ctx)
	err := s.db(ctx).RecordFile.UpdateOneID(id).Where(recordfile.DeletedAtIsNil()).
		SetDeletedAt(s.now()).Exec(ctx)
	if ent.IsNotFound(err) {
		return 0, gqlerr.NotFoundError("record file")
	}
	if err != nil {
		return 0, err
	}
	return id, s.logChange(ctx, access{action: auditevent.ActionDELETE, patientID: v.ID, fileID: id})
}

// DownloadURL signs a link for the viewer, who could load f: the privacy
// rule already let them see it.
func (s *Service) DownloadURL(ctx context.Context, f *ent.RecordFile) (string, error) {
	return s.Links.URL(f.ID, viewer.FromContext(ctx), s.now()), nil
}
