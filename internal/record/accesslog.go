package record

import (
	"context"
	"errors"

	"github.com/healthmed/healthmed/internal/scalar"

	"entgo.io/contrib/entgql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/internal/viewer"
)

// AccessLog lists, for the signed-in patient, every access to and change
// of their record, newest first.
func (s *Service) AccessLog(ctx context.Context, first *int, after *entgql.Cursor[int]) (*ent.AuditEventConnection, error) {
	first, err := pageSize(first)
	if err != nil {
		return nil, err
	}
	if err := scalar.Expect(after, scalar.KindTime); err != nil {
		return nil, err
	}
	// The privacy rule shows a patient the rows about their own record.
	return s.Client.AuditEvent.Query().
		Paginate(ctx, after, first, nil, nil, ent.WithAuditEventOrder(&ent.AuditEventOrder{
			Direction: entgql.OrderDirectionDesc, Field: ent.AuditEventOrderFieldCreatedAt,
		}))
}

// EventFile is the file an audit row names, as the viewer may see it:
// nil once the file is deleted.
func (s *Service) EventFile(ctx context.Context, ev *ent.AuditEvent) (*ent.RecordFile, error) {
	if ev.RecordFileID == nil {
		return nil, nil
	}
	return orNil(s.Client.RecordFile.Get(ctx, *ev.RecordFileID))
}

// EventActor is the doctor or patient who acted, as the viewer may see
// them: doctors' profiles are public, other patients stay hidden.
func (s *Service) EventActor(ctx context.Context, ev *ent.AuditEvent) (ent.Noder, error) {
	if ev.ActorID == nil {
		return nil, nil
	}
	switch ev.ActorRole {
	case viewer.Doctor.String():
		if d, err := orNil(s.Client.Doctor.Get(ctx, *ev.ActorID)); d != nil || err != nil {
			return d, err
		}
	case viewer.Patient.String():
		if p, err := orNil(s.Client.Patient.Get(ctx, *ev.ActorID)); p != nil || err != nil {
			return p, err
		}
	}
	// An untyped nil: a nil *Doctor in the interface would not read as null.
	return nil, nil
}

// orNil turns "not there, or not for you" into an absent value, which is
// what an optional field shows.
func orNil[T any](v *T, err error) (*T, error) {
	if ent.IsNotFound(err) || errors.Is(err, privacy.Deny) {
		return nil, nil
	}
	return v, err
}
