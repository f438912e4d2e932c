package rule

import (
	"context"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/notification"
	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/internal/viewer"
)

// FilterNotificationsForViewer shows each doctor or patient the
// notifications addressed to them, and nobody else's.
func FilterNotificationsForViewer() privacy.QueryRule {
	return privacy.NotificationQueryRuleFunc(func(ctx context.Context, q *ent.NotificationQuery) error {
		v := viewer.FromContext(ctx)
		switch {
		case v.IsDoctor():
			q.Where(notification.DoctorID(v.ID))
			return privacy.Allow
		case v.IsPatient():
			q.Where(notification.PatientID(v.ID))
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// AllowNotificationReadMark lets the recipient of notifications mark them
// read, and change nothing else: the recipient predicate goes into the
// UPDATE itself, so someone else's notification is simply not found.
func AllowNotificationReadMark() privacy.MutationRule {
	return privacy.NotificationMutationRuleFunc(func(ctx context.Context, m *ent.NotificationMutation) error {
		v := viewer.FromContext(ctx)
		if !m.Op().Is(ent.OpUpdate|ent.OpUpdateOne) || (!v.IsDoctor() && !v.IsPatient()) {
			return privacy.Skip
		}
		if len(m.ClearedFields()) > 0 {
			return privacy.Denyf("only the read mark of a notification changes")
		}
		for _, f := range m.Fields() {
			if f != notification.FieldReadAt && f != notification.FieldUpdatedAt {
				return privacy.Denyf("only the read mark of a notification changes")
			}
		}
		if v.IsDoctor() {
			m.Where(notification.DoctorID(v.ID))
		} else {
			m.Where(notification.PatientID(v.ID))
		}
		return privacy.Allow
	})
}
