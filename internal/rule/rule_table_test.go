package rule_test

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/invoice"
	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/ent/recordfile"
	_ "github.com/healthmed/healthmed/ent/runtime" // the policies, so the server may send what a rule built
	"github.com/healthmed/healthmed/internal/rule"
	"github.com/healthmed/healthmed/internal/viewer"
)

// recorder is a database that keeps the statements it is sent, and
// answers every query with the rows it holds: enough to see the predicate
// a rule put into a query or a write, without a server.
type recorder struct {
	stmts []string
	args  [][]any
	rows  [][]any
}

func (r *recorder) Exec(_ context.Context, q string, args, _ any) error {
	r.keep(q, args)
	return errors.New("recorder: no writes")
}

func (r *recorder) Query(_ context.Context, q string, args, v any) error {
	r.keep(q, args)
	*v.(*entsql.Rows) = entsql.Rows{ColumnScanner: &fakeRows{rows: r.rows, at: -1}}
	return nil
}

func (r *recorder) keep(q string, args any) {
	a, _ := args.([]any)
	r.stmts, r.args = append(r.stmts, q), append(r.args, a)
}

func (r *recorder) Tx(context.Context) (dialect.Tx, error) { return recorderTx{r}, nil }
func (r *recorder) Close() error                           { return nil }
func (r *recorder) Dialect() string                        { return dialect.Postgres }

// last is the last statement and its arguments, as one string.
func (r *recorder) last() string {
	if len(r.stmts) == 0 {
		return ""
	}
	return fmt.Sprintf("%s %v", r.stmts[len(r.stmts)-1], r.args[len(r.args)-1])
}

type recorderTx struct{ *recorder }

func (recorderTx) Commit() error   { return nil }
func (recorderTx) Rollback() error { return nil }

type fakeRows struct {
	rows [][]any
	at   int
}

func (f *fakeRows) Close() error                               { return nil }
func (f *fakeRows) ColumnTypes() ([]*stdsql.ColumnType, error) { return nil, nil }
func (f *fakeRows) Columns() ([]string, error)                 { return []string{"id"}, nil }
func (f *fakeRows) Err() error                                 { return nil }
func (f *fakeRows) NextResultSet() bool                        { return false }
func (f *fakeRows) Next() bool                                 { f.at++; return f.at < len(f.rows) }
func (f *fakeRows) Scan(dest ...any) error {
	if f.at >= len(f.rows) {
		return io.EOF
	}
	for i, d := range dest {
		reflect.ValueOf(d).Elem().Set(reflect.ValueOf(f.rows[f.at][i]))
	}
	return nil
}

var (
	patient9 = viewer.Viewer{Role: viewer.Patient, ID: 9}
	doctor7  = viewer.Viewer{Role: viewer.Doctor, ID: 7}
	admin5   = viewer.Viewer{Role: viewer.Admin, ID: 5}
	system   = viewer.Viewer{Role: viewer.System}
	nobody   = viewer.Viewer{}
)

func as(v viewer.Viewer) context.Context { return viewer.NewContext(context.Background(), v) }

type idQuery interface {
	ent.Query
	IDs(context.Context) ([]int, error)
}

// TestQueryRules: each filter shows its viewers their own rows, by the
// predicate it adds, and leaves everyone else to the next rule (which, at
// the end of every policy, denies).
func TestQueryRules(t *testing.T) {
	rec := &recorder{}
	client := ent.NewClient(ent.Driver(rec))
	type query func() idQuery
	appointments := func() idQuery { return client.Appointment.Query() }
	invoices := func() idQuery { return client.Invoice.Query() }
	coverage := func() idQuery { return client.CoverageCheck.Query() }
	plans := func() idQuery { return client.InsurancePlan.Query() }
	notifications := func() idQuery { return client.Notification.Query() }
	patients := func() idQuery { return client.Patient.Query() }
	files := func() idQuery { return client.RecordFile.Query() }
	shares := func() idQuery { return client.RecordShare.Query() }
	audit := func() idQuery { return client.AuditEvent.Query() }
	for _, tc := range []struct {
		rule  string
		r     privacy.QueryRule
		q     query
		v     viewer.Viewer
		want  string
		where []string // in the SQL the query then sends
	}{
		{"FilterAppointmentsForViewer", rule.FilterAppointmentsForViewer(), appointments, patient9, "allow", []string{`"patient_id" = $1 [9]`}},
		{"FilterAppointmentsForViewer", rule.FilterAppointmentsForViewer(), appointments, doctor7, "allow", []string{`"doctor_id" = $1 [7]`}},
		{"FilterAppointmentsForViewer", rule.FilterAppointmentsForViewer(), appointments, admin5, "skip", nil},
		{"FilterAppointmentsForViewer", rule.FilterAppointmentsForViewer(), appointments, nobody, "skip", nil},
		{"FilterInvoicesForViewer", rule.FilterInvoicesForViewer(), invoices, patient9, "allow", []string{`"patient_id" = $1 [9]`}},
		{"FilterInvoicesForViewer", rule.FilterInvoicesForViewer(), invoices, doctor7, "allow", []string{`"doctor_id" = $1 [7]`}},
		{"FilterInvoicesForViewer", rule.FilterInvoicesForViewer(), invoices, admin5, "skip", nil},
		{"FilterCoverageForViewer", rule.FilterCoverageForViewer(), coverage, patient9, "allow", []string{`"patient_id" = $1 [9]`}},
		{"FilterCoverageForViewer", rule.FilterCoverageForViewer(), coverage, doctor7, "allow", []string{`"doctor_id" = $1 [7]`}},
		{"FilterCoverageForViewer", rule.FilterCoverageForViewer(), coverage, nobody, "skip", nil},
		{"FilterInsurancePlansForViewer", rule.FilterInsurancePlansForViewer(), plans, patient9, "allow", []string{`"patient_id" = $1 [9]`}},
		{"FilterInsurancePlansForViewer: a doctor never reads a plan", rule.FilterInsurancePlansForViewer(), plans, doctor7, "skip", nil},
		{"FilterNotificationsForViewer", rule.FilterNotificationsForViewer(), notifications, patient9, "allow", []string{`"patient_id" = $1 [9]`}},
		{"FilterNotificationsForViewer", rule.FilterNotificationsForViewer(), notifications, doctor7, "allow", []string{`"doctor_id" = $1 [7]`}},
		{"FilterNotificationsForViewer", rule.FilterNotificationsForViewer(), notifications, admin5, "skip", nil},
		{"FilterPatientsForViewer: themself", rule.FilterPatientsForViewer(), patients, patient9, "allow", []string{`"patients"."id" = $1 [9]`}},
		{"FilterPatientsForViewer: a doctor's patients", rule.FilterPatientsForViewer(), patients, doctor7,
			"allow", []string{`"appointments"`, `"record_shares"`, `"revoked_at" IS NULL`, `"expires_at" >`}},
		{"FilterPatientsForViewer", rule.FilterPatientsForViewer(), patients, nobody, "skip", nil},
		{"FilterRecordFilesForViewer: own live files", rule.FilterRecordFilesForViewer(), files, patient9,
			"allow", []string{`"patient_id" = $1`, `"deleted_at" IS NULL`, `[9]`}},
		{"FilterRecordFilesForViewer: what a live share covers", rule.FilterRecordFilesForViewer(), files, doctor7,
			"allow", []string{`"deleted_at" IS NULL`, `rs.doctor_id = $1`, `rs.revoked_at IS NULL`, `rs.expires_at > $2`, `[7 `}},
		{"FilterRecordFilesForViewer", rule.FilterRecordFilesForViewer(), files, admin5, "skip", nil},
		{"FilterSharesForViewer", rule.FilterSharesForViewer(), shares, patient9, "allow", []string{`"patient_id" = $1 [9]`}},
		{"FilterSharesForViewer", rule.FilterSharesForViewer(), shares, doctor7, "allow", []string{`"doctor_id" = $1 [7]`}},
		{"FilterSharesForViewer", rule.FilterSharesForViewer(), shares, nobody, "skip", nil},
		{"FilterAuditForViewer", rule.FilterAuditForViewer(), audit, patient9, "allow", []string{`"patient_id" = $1 [9]`}},
		{"FilterAuditForViewer: a doctor reads no log", rule.FilterAuditForViewer(), audit, doctor7, "skip", nil},
		{"AllowIfSystem", rule.AllowIfSystem(), appointments, system, "allow", nil},
		{"AllowIfSystem", rule.AllowIfSystem(), appointments, patient9, "skip", nil},
	} {
		t.Run(tc.rule+"/"+tc.v.Role.String(), func(t *testing.T) {
			q := tc.q()
			if got := decision(tc.r.EvalQuery(as(tc.v), q)); got != tc.want {
				t.Fatalf("%s, want %s", got, tc.want)
			}
			// Sent as the server, so only the rule's own predicate is in it.
			rec.stmts, rec.args = nil, nil
			_, _ = q.IDs(viewer.SystemContext(context.Background()))
			sent := rec.last()
			if len(tc.where) == 0 && strings.Contains(sent, "WHERE") {
				t.Fatalf("the rule narrowed a query it skipped: %s", sent)
			}
			for _, w := range tc.where {
				if !strings.Contains(sent, w) {
					t.Fatalf("sent %s, want %s in it", sent, w)
				}
			}
		})
	}
}

// TestMutationRules: who may write what, and the ownership predicate that
// goes into the write itself.
func TestMutationRules(t *testing.T) {
	rec := &recorder{}
	client := ent.NewClient(ent.Driver(rec))
	later := time.Now().Add(time.Hour)
	type write struct {
		m    ent.Mutation
		exec func(context.Context) error
	}
	bookFor := func(patient int) write {
		c := client.Appointment.Create().SetPatientID(patient).SetDoctorID(7).SetSlotID(1).SetStartsAt(later).SetEndsAt(later)
		return write{c.Mutation(), func(ctx context.Context) error { return c.Exec(ctx) }}
	}
	cancel := func() write {
		u := client.Appointment.UpdateOneID(3).SetStatus(appointment.StatusCANCELLED)
		return write{u.Mutation(), func(ctx context.Context) error { return u.Exec(ctx) }}
	}
	settle := func() write {
		u := client.Invoice.UpdateOneID(4).SetStatus(invoice.StatusPAID)
		return write{u.Mutation(), func(ctx context.Context) error { return u.Exec(ctx) }}
	}
	issue := func() write {
		c := client.Invoice.Create().SetDoctorID(7).SetPatientID(9)
		return write{c.Mutation(), func(ctx context.Context) error { return c.Exec(ctx) }}
	}
	readMark := func() write {
		u := client.Notification.Update().SetReadAt(time.Now())
		return write{u.Mutation(), func(ctx context.Context) error { return u.Exec(ctx) }}
	}
	rewordNotification := func() write {
		u := client.Notification.UpdateOneID(2).SetAttempts(0)
		return write{u.Mutation(), func(ctx context.Context) error { return u.Exec(ctx) }}
	}
	slotFor := func(doctor int) write {
		c := client.Slot.Create().SetDoctorID(doctor).SetStartsAt(later).SetEndsAt(later)
		return write{c.Mutation(), func(ctx context.Context) error { return c.Exec(ctx) }}
	}
	moveSlot := func() write {
		u := client.Slot.UpdateOneID(6).SetStartsAt(later)
		return write{u.Mutation(), func(ctx context.Context) error { return u.Exec(ctx) }}
	}
	shareFor := func(patient int) write {
		c := client.RecordShare.Create().SetPatientID(patient).SetDoctorID(7).SetExpiresAt(later)
		return write{c.Mutation(), func(ctx context.Context) error { return c.Exec(ctx) }}
	}
	revoke := func() write {
		u := client.RecordShare.UpdateOneID(8).SetRevokedAt(time.Now())
		return write{u.Mutation(), func(ctx context.Context) error { return u.Exec(ctx) }}
	}
	registerPatient := func() write {
		c := client.Patient.Create().SetName("n").SetEmail("e@x").SetCpf("52998224725").SetPasswordHash("h")
		return write{c.Mutation(), func(ctx context.Context) error { return c.Exec(ctx) }}
	}
	renamePatient := func() write {
		u := client.Patient.UpdateOneID(9).SetName("n")
		return write{u.Mutation(), func(ctx context.Context) error { return u.Exec(ctx) }}
	}
	for _, tc := range []struct {
		name  string
		r     privacy.MutationRule
		w     func() write
		v     viewer.Viewer
		want  string
		where []string
	}{
		{"AllowAppointmentParties: a patient books for themself", rule.AllowAppointmentParties(), func() write { return bookFor(9) }, patient9, "allow", nil},
		{"AllowAppointmentParties: not for another", rule.AllowAppointmentParties(), func() write { return bookFor(10) }, patient9, "skip", nil},
		{"AllowAppointmentParties: a doctor books nothing", rule.AllowAppointmentParties(), func() write { return bookFor(9) }, doctor7, "skip", nil},
		{"AllowAppointmentParties: the patient's own", rule.AllowAppointmentParties(), cancel, patient9, "allow", []string{`"patient_id" = $`, `9`}},
		{"AllowAppointmentParties: the doctor's own", rule.AllowAppointmentParties(), cancel, doctor7, "allow", []string{`"doctor_id" = $`, `7`}},
		{"AllowAppointmentParties: nobody else", rule.AllowAppointmentParties(), cancel, admin5, "skip", nil},
		{"AllowInvoiceSettlement: the doctor's own", rule.AllowInvoiceSettlement(), settle, doctor7, "allow", []string{`"doctor_id" = $`, `7`}},
		{"AllowInvoiceSettlement: not the patient", rule.AllowInvoiceSettlement(), settle, patient9, "skip", nil},
		{"AllowInvoiceSettlement: never issued by hand", rule.AllowInvoiceSettlement(), issue, doctor7, "skip", nil},
		{"AllowNotificationReadMark: the patient's own", rule.AllowNotificationReadMark(), readMark, patient9, "allow", []string{`"patient_id" = $`, `9`}},
		{"AllowNotificationReadMark: the doctor's own", rule.AllowNotificationReadMark(), readMark, doctor7, "allow", []string{`"doctor_id" = $`, `7`}},
		{"AllowNotificationReadMark: only the read mark", rule.AllowNotificationReadMark(), rewordNotification, patient9, "deny", nil},
		{"AllowNotificationReadMark: nobody else", rule.AllowNotificationReadMark(), readMark, admin5, "skip", nil},
		{"AllowDoctorOwned: own slot", rule.AllowDoctorOwned(), func() write { return slotFor(7) }, doctor7, "allow", nil},
		{"AllowDoctorOwned: another's slot", rule.AllowDoctorOwned(), func() write { return slotFor(8) }, doctor7, "deny", nil},
		{"AllowDoctorOwned: a change, in its own rows", rule.AllowDoctorOwned(), moveSlot, doctor7, "allow", []string{`"doctor_id" = $`, `7`}},
		{"AllowDoctorOwned: not for patients", rule.AllowDoctorOwned(), moveSlot, patient9, "skip", nil},
		{"AllowPatientOwned: own share", rule.AllowPatientOwned(), func() write { return shareFor(9) }, patient9, "allow", nil},
		{"AllowPatientOwned: another's", rule.AllowPatientOwned(), func() write { return shareFor(10) }, patient9, "deny", nil},
		{"AllowPatientOwned: a change, in its own rows", rule.AllowPatientOwned(), revoke, patient9, "allow", []string{`"patient_id" = $`, `9`}},
		{"AllowPatientOwned: not for doctors", rule.AllowPatientOwned(), revoke, doctor7, "skip", nil},
		{"AllowRegistration: anyone signs up", rule.AllowRegistration(), registerPatient, nobody, "allow", nil},
		{"AllowRegistration: signed in, not through this rule", rule.AllowRegistration(), registerPatient, patient9, "skip", nil},
		{"AllowRegistration: no other write", rule.AllowRegistration(), renamePatient, nobody, "skip", nil},
		{"AllowIfSystem", rule.AllowIfSystem(), renamePatient, system, "allow", nil},
		{"AllowIfSystem", rule.AllowIfSystem(), renamePatient, doctor7, "skip", nil},
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
}

// TestAllowDoctorConsultationReport: a doctor adds a REPORT only to the
// record of a patient of one of their completed appointments.
func TestAllowDoctorConsultationReport(t *testing.T) {
	report := func(c *ent.Client, cat recordfile.Category) ent.Mutation {
		return c.RecordFile.Create().SetPatientID(9).SetCategory(cat).SetTitle("t").SetFileName("f").
			SetContentType("text/plain").SetSizeBytes(1).SetSha256("x").SetStorageKey("k").SetWrappedKey([]byte("w")).Mutation()
	}
	for _, tc := range []struct {
		name      string
		v         viewer.Viewer
		cat       recordfile.Category
		completed bool
		want      string
	}{
		{"completed appointment", doctor7, recordfile.CategoryREPORT, true, "allow"},
		{"no completed appointment", doctor7, recordfile.CategoryREPORT, false, "skip"},
		{"not a report", doctor7, recordfile.CategoryEXAM, true, "skip"},
		{"a patient's upload is another rule's", patient9, recordfile.CategoryREPORT, true, "skip"},
		{"anonymous", nobody, recordfile.CategoryREPORT, true, "skip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			if tc.completed {
				rec.rows = [][]any{{3}}
			}
			c := ent.NewClient(ent.Driver(rec))
			if got := decision(rule.AllowDoctorConsultationReport().EvalMutation(as(tc.v), report(c, tc.cat))); got != tc.want {
				t.Fatalf("%s, want %s", got, tc.want)
			}
			if tc.want == "allow" {
				sent := rec.last()
				for _, s := range []string{`"doctor_id" = $`, `"patient_id" = $`, `"status" = $`, `7 9 COMPLETED`} {
					if !strings.Contains(sent, s) {
						t.Fatalf("checked with %s, want %s in it", sent, s)
					}
				}
			}
		})
	}
}
