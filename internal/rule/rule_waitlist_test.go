package rule_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/ent/waitlistentry"
	"github.com/healthmed/healthmed/internal/rule"
	"github.com/healthmed/healthmed/internal/viewer"
)

// TestWaitlistRules: a patient reads their own entries and offers only,
// joins a line for themself and only leaves it; nobody else reads or
// writes through these rules.
func TestWaitlistRules(t *testing.T) {
	rec := &recorder{}
	client := ent.NewClient(ent.Driver(rec))
	entries := func() idQuery { return client.WaitlistEntry.Query() }
	offers := func() idQuery { return client.WaitlistOffer.Query() }
	slots := func() idQuery { return client.Slot.Query() }
	for _, tc := range []struct {
		name  string
		q     func() idQuery
		v     viewer.Viewer
		want  string
		where string
	}{
		{"own entries", entries, patient9, "allow", `"patient_id" = $1 [9]`},
		{"own offers", offers, patient9, "allow", `"patient_id" = $1 [9]`},
		{"a doctor reads no line", entries, doctor7, "skip", ""},
		{"a doctor reads no offer", offers, doctor7, "skip", ""},
		{"an admin reads no line", entries, admin5, "skip", ""},
		{"anonymous", offers, nobody, "skip", ""},
		{"another entity is another rule's", slots, patient9, "skip", ""},
	} {
		t.Run("FilterWaitlistForPatient/"+tc.name, func(t *testing.T) {
			q := tc.q()
			if got := decision(rule.FilterWaitlistForPatient().EvalQuery(as(tc.v), q)); got != tc.want {
				t.Fatalf("%s, want %s", got, tc.want)
			}
			rec.stmts, rec.args = nil, nil
			_, _ = q.IDs(viewer.SystemContext(context.Background()))
			sent := rec.last()
			if tc.where == "" && strings.Contains(sent, "WHERE") {
				t.Fatalf("the rule narrowed a query it skipped: %s", sent)
			}
			if !strings.Contains(sent, tc.where) {
				t.Fatalf("sent %s, want %s in it", sent, tc.where)
			}
		})
	}

	type write struct {
		m    *ent.WaitlistEntryMutation
		exec func(context.Context) error
	}
	joinFor := func(patient int, status waitlistentry.Status) write {
		c := client.WaitlistEntry.Create().SetPatientID(patient).SetDoctorID(7)
		if status != "" {
			c.SetStatus(status)
		}
		return write{c.Mutation(), func(ctx context.Context) error { return c.Exec(ctx) }}
	}
	setStatus := func(s waitlistentry.Status) write {
		u := client.WaitlistEntry.UpdateOneID(4).SetStatus(s)
		return write{u.Mutation(), func(ctx context.Context) error { return u.Exec(ctx) }}
	}
	touch := func() write {
		u := client.WaitlistEntry.UpdateOneID(4).SetUpdatedAt(time.Now())
		return write{u.Mutation(), func(ctx context.Context) error { return u.Exec(ctx) }}
	}
	for _, tc := range []struct {
		name  string
		w     func() write
		v     viewer.Viewer
		want  string
		where string
	}{
		{"joins for themself", func() write { return joinFor(9, "") }, patient9, "allow", ""},
		{"not for another", func() write { return joinFor(10, "") }, patient9, "deny", ""},
		{"not already booked", func() write { return joinFor(9, waitlistentry.StatusBOOKED) }, patient9, "deny", ""},
		{"leaves their own entry", func() write { return setStatus(waitlistentry.StatusLEFT) }, patient9, "allow", `"patient_id" = $`},
		{"does not mark it booked", func() write { return setStatus(waitlistentry.StatusBOOKED) }, patient9, "deny", ""},
		{"changes nothing else", touch, patient9, "deny", ""},
		{"a doctor joins no line", func() write { return joinFor(9, "") }, doctor7, "skip", ""},
		{"a doctor moves no entry", func() write { return setStatus(waitlistentry.StatusLEFT) }, doctor7, "skip", ""},
		{"anonymous", func() write { return joinFor(9, "") }, nobody, "skip", ""},
	} {
		t.Run("AllowWaitlistJoinAndLeave/"+tc.name, func(t *testing.T) {
			w := tc.w()
			if got := decision(rule.AllowWaitlistJoinAndLeave().EvalMutation(as(tc.v), w.m)); got != tc.want {
				t.Fatalf("%s, want %s", got, tc.want)
			}
			if tc.where == "" {
				return
			}
			rec.stmts, rec.args = nil, nil
			_ = w.exec(viewer.SystemContext(context.Background()))
			if sent := rec.last(); !strings.Contains(sent, tc.where) || !strings.Contains(sent, "9") {
				t.Fatalf("sent %s, want %s for patient 9 in it", sent, tc.where)
			}
		})
	}
	// Entries are left, never deleted, even by their patient (through the
	// schema's whole policy, which ends in this rule for a patient).
	if _, err := client.WaitlistEntry.Delete().Where(waitlistentry.ID(4)).Exec(as(patient9)); !errors.Is(err, privacy.Deny) {
		t.Fatalf("a patient deleted an entry: %v", err)
	}
}
