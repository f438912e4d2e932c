package rule

import (
	"context"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/auditevent"
	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/ent/recordfile"
	"github.com/healthmed/healthmed/ent/recordshare"
	"github.com/healthmed/healthmed/internal/viewer"
)

// FilterRecordFilesForViewer shows a patient their own live files, and a
// doctor only the files a live share covers: by id, by category, or by a
// tag, so files added after the share was made are covered too.
func FilterRecordFilesForViewer() privacy.QueryRule {
	return privacy.RecordFileQueryRuleFunc(func(ctx context.Context, q *ent.RecordFileQuery) error {
		v := viewer.FromContext(ctx)
		switch {
		case v.IsPatient():
			q.Where(recordfile.PatientID(v.ID), recordfile.DeletedAtIsNil())
			return privacy.Allow
		case v.IsDoctor():
			q.Where(recordfile.DeletedAtIsNil(), coveredByLiveShare(v.ID, time.Now()))
			return privacy.Allow
		}
		return privacy.Skip
	})
}

func coveredByLiveShare(doctorID int, at time.Time) func(*sql.Selector) {
	return func(s *sql.Selector) {
		s.Where(sql.P(func(b *sql.Builder) {
			b.WriteString("EXISTS (SELECT 1 FROM record_shares rs WHERE rs.doctor_id = ").Arg(doctorID).
				WriteString(" AND rs.patient_id = ").WriteString(s.C(recordfile.FieldPatientID)).
				WriteString(" AND rs.revoked_at IS NULL AND rs.expires_at > ").Arg(at).
				WriteString(" AND (EXISTS (SELECT 1 FROM record_share_files sf WHERE sf.record_share_id = rs.id AND sf.record_file_id = ").
				WriteString(s.C(recordfile.FieldID)).
				WriteString(") OR rs.categories ? ").WriteString(s.C(recordfile.FieldCategory)).
				WriteString("::text OR rs.tags ?| ARRAY(SELECT jsonb_array_elements_text(").
				WriteString(s.C(recordfile.FieldTags)).WriteString("))))")
		}))
	}
}

// FilterSharesForViewer shows a share to the patient who made it and to
// the doctor it names.
func FilterSharesForViewer() privacy.QueryRule {
	return privacy.RecordShareQueryRuleFunc(func(ctx context.Context, q *ent.RecordShareQuery) error {
		v := viewer.FromContext(ctx)
		switch {
		case v.IsPatient():
			q.Where(recordshare.PatientID(v.ID))
			return privacy.Allow
		case v.IsDoctor():
			q.Where(recordshare.DoctorID(v.ID))
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// FilterAuditForViewer shows a patient who accessed their record.
func FilterAuditForViewer() privacy.QueryRule {
	return privacy.AuditEventQueryRuleFunc(func(ctx context.Context, q *ent.AuditEventQuery) error {
		v := viewer.FromContext(ctx)
		if v.IsPatient() {
			q.Where(auditevent.PatientID(v.ID))
			return privacy.Allow
		}
		return privacy.Skip
	})
}
