package seed_test

import (
	"context"
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/internal/auth"
	"github.com/healthmed/healthmed/internal/seed"
	"github.com/healthmed/healthmed/internal/testdb"
	"github.com/healthmed/healthmed/internal/validate"
	"github.com/healthmed/healthmed/internal/viewer"
)

func TestSeedRunsOnceWithWorkingDemoLogins(t *testing.T) {
	d := testdb.New(t)
	ctx := viewer.SystemContext(context.Background())
	now := time.Date(2027, 1, 4, 12, 0, 0, 0, time.UTC) // a Monday
	logins, err := seed.Run(ctx, d.Client, seed.Options{DoctorsPerCity: 5, Days: 7, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	doctors, _ := d.Client.Doctor.Query().Count(ctx)
	slots, _ := d.Client.Slot.Query().Count(ctx)
	patients, _ := d.Client.Patient.Query().All(ctx)
	// 3 cities x 5 doctors; 5 weekdays in the next 7 days x 3 morning slots.
	if doctors != 15 || slots != 15*5*3 || len(patients) != 3 {
		t.Fatalf("seeded %d doctors, %d slots, %d patients", doctors, slots, len(patients))
	}
	// The demo doctors are listed and bookable: their CRMs count as checked.
	if n, _ := d.Client.Doctor.Query().Where(doctor.VerificationNEQ(doctor.VerificationVERIFIED)).Count(ctx); n != 0 {
		t.Fatalf("%d demo doctors are not verified", n)
	}
	for _, p := range patients {
		if _, err := validate.CPF(p.Cpf); err != nil {
			t.Fatalf("demo CPF %s invalid: %v", p.Cpf, err)
		}
		if !auth.CheckPassword(p.PasswordHash, seed.DemoPatientPassword) {
			t.Fatalf("demo patient %s does not take the printed password", p.Email)
		}
	}
	if len(logins) != 5 || logins[0].Login != "100001/SP" || logins[4].Role != "admin" {
		t.Fatalf("printed logins %+v", logins)
	}
	admin, err := d.Client.Admin.Query().Only(ctx)
	if err != nil || admin.Email != seed.DemoAdminEmail || !auth.CheckPassword(admin.PasswordHash, seed.DemoAdminPassword) {
		t.Fatalf("demo admin %v does not take the printed password", err)
	}
	// A second run changes nothing and prints the same logins.
	again, err := seed.Run(ctx, d.Client, seed.Options{DoctorsPerCity: 5, Days: 7, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := d.Client.Admin.Query().Count(ctx); n != 1 {
		t.Fatalf("second run: %d admins", n)
	}
	if n, _ := d.Client.Doctor.Query().Count(ctx); n != 15 || len(again) != len(logins) {
		t.Fatalf("second run: %d doctors, %d logins", n, len(again))
	}
}
