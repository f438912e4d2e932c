package rule_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/geo"
	"github.com/healthmed/healthmed/internal/rule"
	"github.com/healthmed/healthmed/internal/testdb"
	"github.com/healthmed/healthmed/internal/viewer"
)

// TestLiveShare: a share opens the record until the moment it expires,
// not a second longer, and not at all once revoked. LiveShareOf keeps
// the live shares to one doctor's; LiveShare keeps whichever doctor's,
// for a query whose privacy rule has already narrowed them. The bound is
// checked in the database the predicates are written for.
func TestLiveShare(t *testing.T) {
	d := testdb.New(t)
	sys := viewer.SystemContext(context.Background())
	p, err := d.Client.Patient.Create().SetName("P").SetEmail("p@example.com").SetCpf("52998224725").
		SetPasswordHash("x").Save(sys)
	if err != nil {
		t.Fatal(err)
	}
	doctor := func(crm string) int {
		doc, err := d.Client.Doctor.Create().SetName("D").SetEmail(crm + "@example.com").SetPasswordHash("x").
			SetCrmNumber(crm).SetCrmState("SP").SetSpecialty("Cardiologia").SetPriceCents(100).
			SetLocation(geo.Point{Lat: -23.5, Lng: -46.6}).Save(sys)
		if err != nil {
			t.Fatal(err)
		}
		return doc.ID
	}
	mine, other := doctor("1001"), doctor("1002")
	now := time.Now()
	for _, tc := range []struct {
		name     string
		doctor   int
		expires  time.Time
		revoked  bool
		live, of bool // matched by LiveShare, by LiveShareOf(mine)
	}{
		{"ended a second ago", mine, now.Add(-time.Second), false, false, false},
		{"ended a day ago", mine, now.Add(-24 * time.Hour), false, false, false},
		{"ends in a minute", mine, now.Add(time.Minute), false, true, true},
		{"ends in 180 days", mine, now.Add(180 * 24 * time.Hour), false, true, true},
		{"revoked before its end", mine, now.Add(time.Hour), true, false, false},
		{"revoked and ended", mine, now.Add(-time.Hour), true, false, false},
		{"another doctor's, live", other, now.Add(time.Hour), false, true, false},
		{"another doctor's, ended", other, now.Add(-time.Second), false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := d.Client.RecordShare.Create().SetPatientID(p.ID).SetDoctorID(tc.doctor).
				SetCategories([]string{"EXAM"}).SetExpiresAt(tc.expires)
			if tc.revoked {
				c.SetRevokedAt(now.Add(-time.Minute))
			}
			sh, err := c.Save(sys)
			if err != nil {
				t.Fatal(err)
			}
			live, err := d.Client.RecordShare.Query().Where(rule.LiveShare()).IDs(sys)
			if err != nil {
				t.Fatal(err)
			}
			of, err := d.Client.RecordShare.Query().Where(rule.LiveShareOf(mine)).IDs(sys)
			if err != nil {
				t.Fatal(err)
			}
			if got := slices.Contains(live, sh.ID); got != tc.live {
				t.Errorf("LiveShare matches it: %v, want %v", got, tc.live)
			}
			if got := slices.Contains(of, sh.ID); got != tc.of {
				t.Errorf("LiveShareOf(its doctor or another) matches it: %v, want %v", got, tc.of)
			}
		})
	}
}
