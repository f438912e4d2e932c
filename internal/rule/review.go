package rule

import (
	"context"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/feedback"
	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/internal/viewer"
)

// AllowFeedbackByPatient lets a patient write their own rating, and never
// change it afterwards: the reply is the doctor's and the hiding the
// admins'.
func AllowFeedbackByPatient() privacy.MutationRule {
	return privacy.FeedbackMutationRuleFunc(func(ctx context.Context, m *ent.FeedbackMutation) error {
		v := viewer.FromContext(ctx)
		if !v.IsPatient() {
			return privacy.Skip
		}
		if !m.Op().Is(ent.OpCreate) {
			return privacy.Denyf("a rating is not changed once given")
		}
		if id, ok := m.PatientID(); ok && id == v.ID {
			return privacy.Allow
		}
		return privacy.Denyf("a patient rates their own appointments")
	})
}

// AllowFeedbackReply lets a doctor write the reply to a rating of their
// own, and nothing else of it; the ownership goes into the UPDATE.
func AllowFeedbackReply() privacy.MutationRule {
	return privacy.FeedbackMutationRuleFunc(func(ctx context.Context, m *ent.FeedbackMutation) error {
		v := viewer.FromContext(ctx)
		if !v.IsDoctor() || !m.Op().Is(ent.OpUpdate|ent.OpUpdateOne) {
			return privacy.Skip
		}
		if !onlyFields(m, feedback.FieldReply, feedback.FieldRepliedAt) {
			return privacy.Denyf("a doctor only replies to a rating")
		}
		m.Where(feedback.DoctorID(v.ID))
		return privacy.Allow
	})
}

// AllowFeedbackHiding lets an admin hide a rating, and change nothing
// else of it.
func AllowFeedbackHiding() privacy.MutationRule {
	return privacy.FeedbackMutationRuleFunc(func(ctx context.Context, m *ent.FeedbackMutation) error {
		v := viewer.FromContext(ctx)
		if !v.IsAdmin() || !m.Op().Is(ent.OpUpdate|ent.OpUpdateOne) {
			return privacy.Skip
		}
		if !onlyFields(m, feedback.FieldHiddenAt) {
			return privacy.Denyf("an admin only hides a rating")
		}
		return privacy.Allow
	})
}

// FilterHiddenFeedback shows everyone the visible ratings; admins see the
// hidden ones too, and a patient their own.
func FilterHiddenFeedback() privacy.QueryRule {
	return privacy.FeedbackQueryRuleFunc(func(ctx context.Context, q *ent.FeedbackQuery) error {
		v := viewer.FromContext(ctx)
		switch {
		case v.IsAdmin():
		case v.IsPatient():
			q.Where(feedback.Or(feedback.HiddenAtIsNil(), feedback.PatientID(v.ID)))
		default:
			q.Where(feedback.HiddenAtIsNil())
		}
		return privacy.Allow
	})
}

// fieldsMutation is what every generated mutation offers to list what it
// sets and clears.
type fieldsMutation interface {
	Fields() []string
	ClearedFields() []string
}

// onlyFields reports whether m sets nothing but allowed (and the row's
// updated_at) and clears nothing.
func onlyFields(m fieldsMutation, allowed ...string) bool {
	if len(m.ClearedFields()) > 0 {
		return false
	}
	for _, f := range m.Fields() {
		ok := f == "updated_at"
		for _, a := range allowed {
			ok = ok || f == a
		}
		if !ok {
			return false
		}
	}
	return true
}
