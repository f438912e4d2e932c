package graph_test

import (
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/app"
	"github.com/healthmed/healthmed/internal/apptest"
)

const (
	setAvailabilityOp = `mutation($in: [AvailabilityInput!]!, $weeks: Int) { setWeeklyAvailability(input: $in, weeks: $weeks) { id startsAt endsAt } }`
	dayOffOp          = `mutation($d: String!) { addDayOff(date: $d) { date } }`
	registerInZoneOp  = `mutation($in: RegisterDoctorInput!) { registerDoctor(input: $in) { refreshToken } }`
)

// New York leaves standard time on 14 March 2027: 09:00 local is 14:00 UTC
// before and 13:00 UTC after. The clock stands two weeks before.
func TestWeeklyAvailabilityKeepsLocalTimeAcrossDST(t *testing.T) {
	now := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	env := apptest.New(t, apptest.WithApp(app.WithClock(func() time.Time { return now })))
	var reg struct{ RegisterDoctor struct{ RefreshToken string } }
	env.Do("", registerInZoneOp, map[string]any{"in": map[string]any{
		"name": "Dr. Zone", "email": "zone@example.com", "password": "long enough pw", "crm": "777/SP",
		"specialty": "Neurology", "priceCents": 1000, "location": map[string]any{"lat": -23.5, "lng": -46.6},
		"timezone": "America/New_York",
	}}).Decode(t, &reg)
	doc := env.Complete(t, "zone@example.com", reg.RegisterDoctor.RefreshToken)

	var out struct {
		SetWeeklyAvailability []struct{ StartsAt, EndsAt time.Time }
	}
	env.Do(doc, setAvailabilityOp, map[string]any{"weeks": 4, "in": []any{
		map[string]any{"weekday": "MONDAY", "start": "09:00", "end": "11:00", "slotMinutes": 60},
		map[string]any{"weekday": "SUNDAY", "start": "01:00", "end": "04:00", "slotMinutes": 60},
	}}).Decode(t, &out)

	ny, _ := time.LoadLocation("America/New_York")
	perDay := map[string]int{}
	for _, s := range out.SetWeeklyAvailability {
		local := s.StartsAt.In(ny)
		perDay[local.Format("2006-01-02")]++
		if s.EndsAt.Sub(s.StartsAt) > time.Hour {
			t.Fatalf("slot %v-%v longer than an hour", s.StartsAt, s.EndsAt)
		}
		if local.Weekday() == time.Monday {
			if h := local.Hour(); h != 9 && h != 10 {
				t.Fatalf("Monday slot at %s local", local.Format(time.RFC3339))
			}
			wantUTC := local.Hour() + 5
			if local.After(time.Date(2027, 3, 14, 3, 0, 0, 0, time.UTC)) {
				wantUTC = local.Hour() + 4
			}
			if s.StartsAt.UTC().Hour() != wantUTC {
				t.Fatalf("Monday %s: UTC hour %d, want %d", local.Format("2006-01-02 15:04"), s.StartsAt.UTC().Hour(), wantUTC)
			}
		}
	}
	for _, monday := range []string{"2027-03-08", "2027-03-15", "2027-03-22", "2027-03-29"} {
		if perDay[monday] != 2 {
			t.Errorf("%s has %d slots, want 2 (%v)", monday, perDay[monday], perDay)
		}
	}
	// On the night the clocks jump, 02:00-03:00 does not exist: the
	// 01:00 slot stays an hour long and the missing hour yields no slot.
	if got := perDay["2027-03-14"]; got != 2 {
		t.Errorf("DST Sunday has %d slots, want 2 (01:00 and 03:00)", got)
	}
	if got := perDay["2027-03-07"]; got != 3 {
		t.Errorf("ordinary Sunday has %d slots, want 3", got)
	}

	// Running it again makes nothing new: existing slots are not doubled.
	env.Do(doc, setAvailabilityOp, map[string]any{"weeks": 4, "in": []any{
		map[string]any{"weekday": "MONDAY", "start": "09:00", "end": "11:00", "slotMinutes": 60},
	}}).Decode(t, &out)
	if len(out.SetWeeklyAvailability) != 0 {
		t.Fatalf("second run created %d slots", len(out.SetWeeklyAvailability))
	}
	// A day off withdraws that day's free slots.
	env.Do(doc, dayOffOp, map[string]any{"d": "2027-03-15"}).Decode(t, &struct{}{})
	n, err := env.DB.Client.Slot.Query().Count(sysCtx())
	if err != nil || n != 8+11-2 {
		t.Fatalf("slots after the day off: %d (err %v), want %d", n, err, 8+11-2)
	}
}

func TestWeeklyAvailabilityRejectsBadRules(t *testing.T) {
	env := apptest.New(t)
	doc, _ := env.Doctor("Dr. Rules", "Neurology", -23.5, -46.6)
	cases := []struct {
		name  string
		rule  map[string]any
		code  string
		field string
	}{
		{"end before start", map[string]any{"weekday": "MONDAY", "start": "10:00", "end": "09:00", "slotMinutes": 30}, "BAD_USER_INPUT", "input[0].end"},
		{"bad clock", map[string]any{"weekday": "MONDAY", "start": "9h", "end": "10:00", "slotMinutes": 30}, "BAD_USER_INPUT", "input[0].start"},
		{"slot too long", map[string]any{"weekday": "MONDAY", "start": "08:00", "end": "18:00", "slotMinutes": 300}, "BAD_USER_INPUT", "input[0].slotMinutes"},
		{"slot too short", map[string]any{"weekday": "MONDAY", "start": "08:00", "end": "09:00", "slotMinutes": 5}, "BAD_USER_INPUT", "input[0].slotMinutes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := env.Do(doc, setAvailabilityOp, map[string]any{"in": []any{tc.rule}})
			if r.Code() != tc.code || r.Ext("field") != tc.field {
				t.Fatalf("code %q field %q, want %q %q", r.Code(), r.Ext("field"), tc.code, tc.field)
			}
		})
	}
	r := env.Do(doc, setAvailabilityOp, map[string]any{"in": []any{
		map[string]any{"weekday": "MONDAY", "start": "08:00", "end": "10:00", "slotMinutes": 30},
		map[string]any{"weekday": "MONDAY", "start": "09:30", "end": "11:00", "slotMinutes": 30},
	}})
	if r.Code() != "CONFLICT" || r.Ext("reason") != "SLOT_OVERLAP" {
		t.Fatalf("overlapping rules: %q %q", r.Code(), r.Ext("reason"))
	}
}
