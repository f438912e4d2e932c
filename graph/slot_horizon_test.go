package graph_test

import (
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/config"
)

func TestSlotsStartWithinTheHorizon(t *testing.T) {
	env := apptest.New(t)
	doc, _ := env.Doctor("Dr. Horizon", "Cardiology", -23.5, -46.6)
	now := time.Now().UTC()
	day := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 10, 0, 0, 0, time.UTC) }
	inside := day(now.AddDate(0, 12, -1))
	id := createSlot(t, env, doc, inside, 30)

	for _, start := range []time.Time{day(now.AddDate(0, 12, 1)), day(now.AddDate(30, 0, 0)), time.Date(9999, 12, 31, 10, 0, 0, 0, time.UTC)} {
		r := env.Do(doc, createSlotsOp, map[string]any{"in": []any{slotAt(inside.Add(time.Hour), 30), slotAt(start, 30)}})
		if r.Code() != "BAD_USER_INPUT" || r.Ext("field") != "input[1].startsAt" {
			t.Fatalf("slot at %v: code %q field %q (%+v)", start, r.Code(), r.Ext("field"), r.Errors)
		}
		r = env.Do(doc, updateSlotOp, map[string]any{"id": id, "in": slotAt(start, 30)})
		if r.Code() != "BAD_USER_INPUT" || r.Ext("field") != "input.startsAt" {
			t.Fatalf("move to %v: code %q field %q (%+v)", start, r.Code(), r.Ext("field"), r.Errors)
		}
	}
	var n int
	if err := env.DB.SQL.QueryRow(`SELECT count(*) FROM slots`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d slots after refused batches (err %v), want 1", n, err)
	}

	// A shorter horizon from the configuration also clips the weekly
	// availability's weeks.
	short := apptest.New(t, apptest.WithConfig(func(c *config.Config) { c.SlotHorizonMonths = 1 }))
	doc, _ = short.Doctor("Dr. Soon", "Cardiology", -23.5, -46.6)
	r := short.Do(doc, createSlotsOp, map[string]any{"in": []any{slotAt(day(now.AddDate(0, 1, 2)), 30)}})
	if r.Code() != "BAD_USER_INPUT" || r.Ext("field") != "input[0].startsAt" {
		t.Fatalf("one-month horizon: code %q field %q (%+v)", r.Code(), r.Ext("field"), r.Errors)
	}
	var out struct {
		SetWeeklyAvailability []struct{ StartsAt time.Time }
	}
	week := []any{}
	for _, d := range []string{"SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY"} {
		week = append(week, map[string]any{"weekday": d, "start": "09:00", "end": "10:00", "slotMinutes": 60})
	}
	short.Do(doc, setAvailabilityOp, map[string]any{"in": week, "weeks": 12}).Decode(t, &out)
	if len(out.SetWeeklyAvailability) < 20 {
		t.Fatalf("%d slots for a month of daily hours", len(out.SetWeeklyAvailability))
	}
	limit := time.Now().AddDate(0, 1, 0)
	for _, s := range out.SetWeeklyAvailability {
		if s.StartsAt.After(limit) {
			t.Fatalf("availability opened a slot at %v, past %v", s.StartsAt, limit)
		}
	}
}
