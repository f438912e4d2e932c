package rule_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/internal/rule"
	"github.com/healthmed/healthmed/internal/viewer"
)

// TestReviewRules: a patient only gives their own rating, a doctor only
// replies to ratings of theirs, an admin only hides; everyone reads the
// visible ratings, a patient also their own hidden one, an admin all.
func TestReviewRules(t *testing.T) {
	rec := &recorder{}
	client := ent.NewClient(ent.Driver(rec))
	type write struct {
		m    ent.Mutation
		exec func(context.Context) error
	}
	rate := func(patient int) func() write {
		return func() write {
			c := client.Feedback.Create().SetAppointmentID(1).SetDoctorID(7).SetPatientID(patient).SetStars(5)
			return write{c.Mutation(), func(ctx context.Context) error { return c.Exec(ctx) }}
		}
	}
	reply := func() write {
		u := client.Feedback.Update().SetReply("thanks").SetRepliedAt(time.Now())
		return write{u.Mutation(), func(ctx context.Context) error { return u.Exec(ctx) }}
	}
	hide := func() write {
		u := client.Feedback.UpdateOneID(3).SetHiddenAt(time.Now())
		return write{u.Mutation(), func(ctx context.Context) error { return u.Exec(ctx) }}
	}
	unhide := func() write {
		u := client.Feedback.UpdateOneID(3).ClearHiddenAt()
		return write{u.Mutation(), func(ctx context.Context) error { return u.Exec(ctx) }}
	}
	addSpecialty := func() write {
		c := client.Specialty.Create().SetCode("x").SetName("X").SetNameEn("X")
		return write{c.Mutation(), func(ctx context.Context) error { return c.Exec(ctx) }}
	}
	for _, tc := range []struct {
		name  string
		r     privacy.MutationRule
		w     func() write
		v     viewer.Viewer
		want  string
		where []string
	}{
		{"AllowFeedbackByPatient: their own rating", rule.AllowFeedbackByPatient(), rate(9), patient9, "allow", nil},
		{"AllowFeedbackByPatient: not another's", rule.AllowFeedbackByPatient(), rate(10), patient9, "deny", nil},
		{"AllowFeedbackByPatient: never a change", rule.AllowFeedbackByPatient(), hide, patient9, "deny", nil},
		{"AllowFeedbackByPatient: never a reply", rule.AllowFeedbackByPatient(), reply, patient9, "deny", nil},
		{"AllowFeedbackByPatient: not for doctors", rule.AllowFeedbackByPatient(), rate(9), doctor7, "skip", nil},
		{"AllowFeedbackReply: the doctor's own ratings", rule.AllowFeedbackReply(), reply, doctor7, "allow", []string{`"doctor_id" = $`, `7`}},
		{"AllowFeedbackReply: only the reply", rule.AllowFeedbackReply(), hide, doctor7, "deny", nil},
		{"AllowFeedbackReply: nothing cleared", rule.AllowFeedbackReply(), unhide, doctor7, "deny", nil},
		{"AllowFeedbackReply: not for admins", rule.AllowFeedbackReply(), reply, admin5, "skip", nil},
		{"AllowFeedbackReply: no rating given", rule.AllowFeedbackReply(), rate(9), doctor7, "skip", nil},
		{"AllowFeedbackHiding: an admin hides", rule.AllowFeedbackHiding(), hide, admin5, "allow", nil},
		{"AllowFeedbackHiding: and does not reply", rule.AllowFeedbackHiding(), reply, admin5, "deny", nil},
		{"AllowFeedbackHiding: nor unhide by clearing", rule.AllowFeedbackHiding(), unhide, admin5, "deny", nil},
		{"AllowFeedbackHiding: not for doctors", rule.AllowFeedbackHiding(), hide, doctor7, "skip", nil},
		{"AllowAdminCreate: an admin adds", rule.AllowAdminCreate(), addSpecialty, admin5, "allow", nil},
		{"AllowAdminCreate: a doctor does not", rule.AllowAdminCreate(), addSpecialty, doctor7, "skip", nil},
		{"AllowAdminCreate: nor changes", rule.AllowAdminCreate(), hide, admin5, "skip", nil},
	} {
		t.Run(tc.name+"/"+tc.v.Role.String(), func(t *testing.T) {
			w := tc.w()
			if got := decision(tc.r.EvalMutation(as(tc.v), w.m)); got != tc.want {
				t.Fatalf("%s, want %s", got, tc.want)
			}
			if len(tc.where) == 0 {
				return
			}
			rec.stmts, rec.args = nil, nil
			_ = w.exec(viewer.SystemContext(context.Background()))
			sent := rec.last()
			for _, s := range tc.where {
				if !strings.Contains(sent, s) {
					t.Fatalf("sent %s, want %s in it", sent, s)
				}
			}
		})
	}

	for _, tc := range []struct {
		v     viewer.Viewer
		where []string
	}{
		{nobody, []string{`"hidden_at" IS NULL`}},
		{doctor7, []string{`"hidden_at" IS NULL`}},
		{patient9, []string{`"hidden_at" IS NULL OR`, `"patient_id" = $1 [9]`}},
		{admin5, nil},
	} {
		t.Run("FilterHiddenFeedback/"+tc.v.Role.String(), func(t *testing.T) {
			q := client.Feedback.Query()
			if got := decision(rule.FilterHiddenFeedback().EvalQuery(as(tc.v), q)); got != "allow" {
				t.Fatalf("%s, want allow", got)
			}
			rec.stmts, rec.args = nil, nil
			_, _ = q.IDs(viewer.SystemContext(context.Background()))
			sent := rec.last()
			if len(tc.where) == 0 && strings.Contains(sent, "WHERE") {
				t.Fatalf("the rule narrowed an admin's query: %s", sent)
			}
			for _, w := range tc.where {
				if !strings.Contains(sent, w) {
					t.Fatalf("sent %s, want %s in it", sent, w)
				}
			}
		})
	}
}
