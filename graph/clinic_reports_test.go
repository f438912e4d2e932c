package graph_test

import (
	"fmt"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/invoice"
	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/auth"
	"github.com/healthmed/healthmed/internal/geo"
)

const (
	loginAdminOp    = `mutation($e: String!, $p: String!) { loginAdmin(email: $e, password: $p) { token } }`
	consultationsOp = `query($from: Time!, $to: Time!) { consultationsReport(from: $from, to: $to) { doctorId doctorName crm status count } }`
	revenueOp       = `query($from: Time!, $to: Time!) { revenueReport(from: $from, to: $to) { month revenueCents invoices } }`
	ratingsOp       = `query($from: Time, $to: Time) { ratingsReport(from: $from, to: $to) { doctorName average ratings } }`
	noShowOp        = `query($from: Time!, $to: Time!) { noShowReport(from: $from, to: $to) {
		total { eligible completed unconfirmed autoCompleted marked noShows rate }
		byDoctor { doctorName figures { eligible completed unconfirmed autoCompleted marked noShows rate } } } }`
)

// reportFixture writes a small clinic's history straight into the
// database, every figure of which the test below computes by hand.
//
//	Ana (900001/SP)                     Bruno (900002/RJ)
//	A6 2024-12-31 23:00Z COMPLETED      B1 2025-01-10 15:00Z COMPLETED (no-show) inv VOID  ★2
//	   inv PAID 2024-12-31 23:30Z 999,99  B2 2025-01-20 REJECTED
//	A1 2025-01-10 12:00Z COMPLETED      B3 2025-01-21 REQUESTED
//	   inv PAID 2025-02-01 02:30Z 250,00 ★5   B4 2025-03-01 COMPLETED inv PAID 2025-03-02 180,00 ★5
//	A2 2025-01-11 COMPLETED by the job, inv SYSTEM OPEN ★4
//	A3 2025-01-12 ACCEPTED (never confirmed)
//	A4 2025-01-13 CANCELLED
//	A5 2025-02-03 COMPLETED inv PAID 2025-02-05 300,00 ★3
func reportFixture(t *testing.T, c *ent.Client) {
	t.Helper()
	ctx := sysCtx()
	doc := func(name, number, state string) *ent.Doctor {
		d, err := c.Doctor.Create().SetName(name).SetEmail(number + "@report.test").SetPasswordHash("!").
			SetCrmNumber(number).SetCrmState(state).SetSpecialty("Cardiology").SetPriceCents(25000).
			SetLocation(geo.Point{Lat: -23.5, Lng: -46.6}).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	ana, bruno := doc("Ana Report", "900001", "SP"), doc("Bruno Report", "900002", "RJ")
	pat, err := c.Patient.Create().SetName("Report Patient").SetEmail("p@report.test").SetCpf(apptest.CPF()).
		SetPasswordHash("!").Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ts := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	n := 0
	type inv struct {
		status invoice.Status
		by     invoice.IssuedBy
		paidAt string
		amount int
	}
	add := func(d *ent.Doctor, start string, status appointment.Status, in *inv, stars int, ratedAt string) {
		t.Helper()
		s := ts(start)
		sl, err := c.Slot.Create().SetDoctorID(d.ID).SetStartsAt(s).SetEndsAt(s.Add(50 * time.Minute)).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		price := 25000
		if in != nil {
			price = in.amount
		}
		a, err := c.Appointment.Create().SetSlotID(sl.ID).SetDoctorID(d.ID).SetPatientID(pat.ID).
			SetStartsAt(s).SetEndsAt(s.Add(50 * time.Minute)).SetPriceCents(price).SetStatus(status).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if in != nil {
			n++
			b := c.Invoice.Create().SetNumber(fmt.Sprintf("T-%d", n)).SetAppointmentID(a.ID).SetPatientID(pat.ID).
				SetDoctorID(d.ID).SetAmountCents(in.amount).SetStatus(in.status).SetIssuedBy(in.by).
				SetServiceAt(s).SetIssuedAt(s.Add(time.Hour))
			if in.paidAt != "" {
				b.SetPaidAt(ts(in.paidAt))
			}
			if in.status == invoice.StatusVOID {
				b.SetVoidedAt(s.Add(2 * time.Hour)).SetVoidReason("no")
			}
			if err := b.Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if stars > 0 {
			if err := c.Feedback.Create().SetAppointmentID(a.ID).SetDoctorID(d.ID).SetPatientID(pat.ID).
				SetStars(stars).SetCreatedAt(ts(ratedAt)).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	const done, byDoc, bySys = appointment.StatusCOMPLETED, invoice.IssuedByDOCTOR, invoice.IssuedBySYSTEM
	add(ana, "2024-12-31T23:00:00Z", done, &inv{invoice.StatusPAID, byDoc, "2024-12-31T23:30:00Z", 99999}, 0, "")
	add(ana, "2025-01-10T12:00:00Z", done, &inv{invoice.StatusPAID, byDoc, "2025-02-01T02:30:00Z", 25000}, 5, "2025-01-10T14:00:00Z")
	add(ana, "2025-01-11T12:00:00Z", done, &inv{invoice.StatusOPEN, bySys, "", 25000}, 4, "2025-01-15T10:00:00Z")
	add(ana, "2025-01-12T12:00:00Z", appointment.StatusACCEPTED, nil, 0, "")
	add(ana, "2025-01-13T12:00:00Z", appointment.StatusCANCELLED, nil, 0, "")
	add(ana, "2025-02-03T12:00:00Z", done, &inv{invoice.StatusPAID, byDoc, "2025-02-05T12:00:00Z", 30000}, 3, "2025-02-04T10:00:00Z")
	add(bruno, "2025-01-10T15:00:00Z", done, &inv{invoice.StatusVOID, byDoc, "", 25000}, 2, "2025-01-11T10:00:00Z")
	// B1 was marked a no-show by Bruno.
	if err := c.Appointment.Update().Where(appointment.DoctorID(bruno.ID), appointment.StartsAt(ts("2025-01-10T15:00:00Z"))).
		SetNoShow(true).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	add(bruno, "2025-01-20T12:00:00Z", appointment.StatusREJECTED, nil, 0, "")
	add(bruno, "2025-01-21T12:00:00Z", appointment.StatusREQUESTED, nil, 0, "")
	add(bruno, "2025-03-01T12:00:00Z", done, &inv{invoice.StatusPAID, byDoc, "2025-03-02T12:00:00Z", 18000}, 5, "2025-03-02T10:00:00Z")
}

func TestReportsFiguresAndAccess(t *testing.T) {
	env := apptest.New(t)
	reportFixture(t, env.DB.Client)
	hash, err := auth.HashPassword("admin password 2026")
	if err != nil {
		t.Fatal(err)
	}
	adm, err := env.DB.Client.Admin.Create().SetName("Admin").SetEmail("admin@clinic.test").SetPasswordHash(hash).Save(sysCtx())
	if err != nil {
		t.Fatal(err)
	}
	if r := env.Do("", loginAdminOp, map[string]any{"e": "admin@clinic.test", "p": "wrong password 2026"}); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("wrong password: %q", r.Code())
	}
	var login struct{ LoginAdmin struct{ Token string } }
	env.Do("", loginAdminOp, map[string]any{"e": "Admin@Clinic.test", "p": "admin password 2026"}).Decode(t, &login)
	admin := login.LoginAdmin.Token

	// São Paulo's January 2025 (UTC-3 all year).
	jan := map[string]any{"from": "2025-01-01T00:00:00-03:00", "to": "2025-02-01T00:00:00-03:00"}
	doc, _ := env.Doctor("Dr. Curious", "Cardiology", -23.5, -46.6)
	pat, _, _ := env.Patient("Nosy")
	for _, op := range []string{consultationsOp, revenueOp, ratingsOp, noShowOp} {
		for name, tc := range map[string]struct{ token, code string }{
			"anonymous": {"", "UNAUTHENTICATED"}, "doctor": {doc, "FORBIDDEN"}, "patient": {pat, "FORBIDDEN"},
		} {
			if r := env.Do(tc.token, op, jan); r.Code() != tc.code {
				t.Fatalf("%s running %s: %q, want %q", name, op[:30], r.Code(), tc.code)
			}
		}
	}
	if r := env.Do(admin, consultationsOp, map[string]any{"from": "2025-02-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"}); r.Code() != "BAD_USER_INPUT" {
		t.Fatalf("backwards range: %q", r.Code())
	}
	// An administrator reads no patient data through the ordinary API.
	if r := env.Do(admin, invoicesOp, nil); r.Code() != "FORBIDDEN" {
		t.Fatalf("admin listing invoices: %q", r.Code())
	}

	var cons struct {
		ConsultationsReport []struct {
			DoctorName, Crm, Status string
			Count                   int
		}
	}
	env.Do(admin, consultationsOp, jan).Decode(t, &cons)
	want := []string{
		"Ana Report 900001/SP ACCEPTED 1", "Ana Report 900001/SP CANCELLED 1", "Ana Report 900001/SP COMPLETED 2",
		"Bruno Report 900002/RJ COMPLETED 1", "Bruno Report 900002/RJ REJECTED 1", "Bruno Report 900002/RJ REQUESTED 1",
	}
	if len(cons.ConsultationsReport) != len(want) {
		t.Fatalf("consultations %+v", cons.ConsultationsReport)
	}
	for i, c := range cons.ConsultationsReport {
		if got := c.DoctorName + " " + c.Crm + " " + c.Status + " " + strconv.Itoa(c.Count); got != want[i] {
			t.Fatalf("row %d: %q, want %q", i, got, want[i])
		}
	}

	// Revenue is the paid invoices by the São Paulo month they were paid:
	// A1's payment at 02:30 UTC on 1 February is still January there;
	// A6's (20:30 on 31 December there) is before the range.
	var rev struct {
		RevenueReport []struct {
			Month                  string
			RevenueCents, Invoices int
		}
	}
	env.Do(admin, revenueOp, map[string]any{"from": "2025-01-01T00:00:00-03:00", "to": "2025-04-01T00:00:00-03:00"}).Decode(t, &rev)
	gotRev := fmt.Sprint(rev.RevenueReport)
	if wantRev := "[{2025-01 25000 1} {2025-02 30000 1} {2025-03 18000 1}]"; gotRev != wantRev {
		t.Fatalf("revenue %s, want %s", gotRev, wantRev)
	}

	var rat struct {
		RatingsReport []struct {
			DoctorName string
			Average    float64
			Ratings    int
		}
	}
	env.Do(admin, ratingsOp, nil).Decode(t, &rat)
	// All time: Ana (5+4+3)/3 = 4, Bruno (2+5)/2 = 3.5.
	if fmt.Sprint(rat.RatingsReport) != "[{Ana Report 4 3} {Bruno Report 3.5 2}]" {
		t.Fatalf("ratings %v", rat.RatingsReport)
	}
	env.Do(admin, ratingsOp, jan).Decode(t, &rat)
	// January: Ana (5+4)/2 = 4.5, Bruno 2.
	if fmt.Sprint(rat.RatingsReport) != "[{Ana Report 4.5 2} {Bruno Report 2 1}]" {
		t.Fatalf("January ratings %v", rat.RatingsReport)
	}

	type figures struct {
		Eligible, Completed, Unconfirmed, AutoCompleted, Marked, NoShows int
		Rate                                                             float64
	}
	var ns struct {
		NoShowReport struct {
			Total    figures
			ByDoctor []struct {
				DoctorName string
				Figures    figures
			}
		}
	}
	env.Do(admin, noShowOp, jan).Decode(t, &ns)
	// Ana: completed A1, A2 (A2 by the job), unconfirmed A3: 2 no-shows
	// of 3. Bruno: B1 completed as a no-show, nothing else eligible.
	rep := ns.NoShowReport
	if len(rep.ByDoctor) != 2 || rep.ByDoctor[0].DoctorName != "Ana Report" ||
		fmt.Sprint(rep.ByDoctor[0].Figures) != fmt.Sprint(figures{3, 2, 1, 1, 0, 2, 2.0 / 3}) ||
		fmt.Sprint(rep.ByDoctor[1].Figures) != fmt.Sprint(figures{1, 1, 0, 0, 1, 1, 1}) {
		t.Fatalf("no-shows by doctor %+v", rep.ByDoctor)
	}
	if tot := rep.Total; tot.Eligible != 4 || tot.Marked != 1 || tot.NoShows != 3 || math.Abs(tot.Rate-0.75) > 1e-9 {
		t.Fatalf("no-show total %+v", tot)
	}

	// A disabled administrator's token stops working at once.
	if err := env.DB.Client.Admin.UpdateOne(adm).SetDisabledAt(time.Now()).Exec(sysCtx()); err != nil {
		t.Fatal(err)
	}
	if r := env.Do(admin, consultationsOp, jan); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("disabled admin: %q", r.Code())
	}
}
