package live

import (
	"context"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/event"
	"github.com/healthmed/healthmed/internal/viewer"
)

// WaitlistOffered writes the event of a slot held for a waitlisted
// patient; a reaction of the WaitlistOffer schema. It reaches only the
// patient: the doctor's agenda feed passes over it.
func WaitlistOffered(ctx context.Context, c *ent.Client, o *ent.WaitlistOffer) error {
	return emit(ctx, c, c.Event.Create().SetKind(event.KindWAITLIST_OFFERED).SetDoctorID(o.DoctorID).
		SetPatientID(o.PatientID).SetSlotID(o.SlotID).SetWaitlistEntryID(o.EntryID))
}

// WaitlistOffered streams the signed-in patient's waitlist entries as
// slots are offered to them, resumable like the other subscriptions.
func (s *Service) WaitlistOffered(ctx context.Context, after *int) (<-chan *ent.WaitlistEntry, error) {
	v := viewer.FromContext(ctx)
	s.init()
	k := Key{Role: viewer.Patient, ID: v.ID}
	return stream(ctx, s, k, "waitlistOffered", after, func(ctx context.Context, e *ent.Event) (*ent.WaitlistEntry, bool, error) {
		if e.Kind != event.KindWAITLIST_OFFERED || e.WaitlistEntryID == nil {
			return nil, false, nil
		}
		// Loaded as the subscriber, so privacy has the last word.
		w, err := s.Client.WaitlistEntry.Get(context.WithoutCancel(ctx), *e.WaitlistEntryID)
		if ent.IsNotFound(err) {
			return nil, false, nil
		}
		return w, err == nil, err
	})
}

// LastWaitlistEventID is WaitlistEntry.lastEventId: the newest offer
// event of the entry, to pass as waitlistOffered's after. It reads the
// patient's own events (their index), which are kept a day.
func (s *Service) LastWaitlistEventID(ctx context.Context, w *ent.WaitlistEntry) (*int, error) {
	id, err := s.Client.Event.Query().Where(event.PatientID(w.PatientID), event.WaitlistEntryID(w.ID)).
		Order(ent.Desc(event.FieldOrd), ent.Desc(event.FieldID)).FirstID(viewer.SystemContext(ctx))
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return &id, err
}
