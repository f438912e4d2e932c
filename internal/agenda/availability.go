package agenda

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/dayoff"
	"github.com/healthmed/healthmed/ent/slot"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/viewer"
)

const (
	DefaultWeeks = 4
	MaxWeeks     = 12
	dateLayout   = "2006-01-02"
)

// SetWeeklyAvailability replaces the doctor's weekly hours and opens slots
// for the coming weeks. Times are wall-clock times in the doctor's zone,
// so 09:00 stays 09:00 across a change of UTC offset.
func (s *Service) SetWeeklyAvailability(ctx context.Context, in []*AvailabilityInput, weeks *int) ([]*ent.Slot, error) {
	v := viewer.FromContext(ctx)
	w := DefaultWeeks
	if weeks != nil {
		if *weeks < 1 || *weeks > MaxWeeks {
			return nil, gqlerr.BadInput("weeks", "weeks must be between 1 and %d", MaxWeeks)
		}
		w = *weeks
	}
	rules := make([]rule, 0, len(in))
	for i, a := range in {
		r, err := parseRule(fmt.Sprintf("input[%d]", i), a)
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	if err := checkRulesDisjoint(rules); err != nil {
		return nil, err
	}
	db := s.db(ctx)
	doc, err := db.Doctor.Get(ctx, v.ID)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(doc.Timezone)
	if err != nil {
		return nil, err
	}
	// The privacy rule narrows the DELETE to the doctor's own rules.
	if _, err := db.Availability.Delete().Exec(ctx); err != nil {
		return nil, err
	}
	creates := make([]*ent.AvailabilityCreate, 0, len(rules))
	for _, r := range rules {
		creates = append(creates, db.Availability.Create().SetDoctorID(v.ID).SetWeekday(int(r.weekday)).
			SetStartMinute(r.start).SetEndMinute(r.end).SetSlotMinutes(r.length))
	}
	if err := db.Availability.CreateBulk(creates...).Exec(ctx); err != nil {
		return nil, err
	}
	return s.materialise(ctx, v.ID, loc, rules, s.now(), w)
}

// AddDayOff blocks a local date: no slots are made for it, and its free
// slots are withdrawn. Booked slots stay; the doctor rejects those.
func (s *Service) AddDayOff(ctx context.Context, date string) (*ent.DayOff, error) {
	v := viewer.FromContext(ctx)
	db := s.db(ctx)
	doc, err := db.Doctor.Get(ctx, v.ID)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(doc.Timezone)
	if err != nil {
		return nil, err
	}
	day, err := time.ParseInLocation(dateLayout, date, loc)
	if err != nil {
		return nil, gqlerr.BadInput("date", "date is YYYY-MM-DD")
	}
	d, err := db.DayOff.Create().SetDoctorID(v.ID).SetDate(day.Format(dateLayout)).Save(ctx)
	if err != nil {
		return nil, err
	}
	start, end := day.UTC(), day.AddDate(0, 0, 1).UTC()
	gone, err := db.Slot.Query().Where(slot.DoctorID(v.ID), slot.DeletedAtIsNil(), slot.StartsAtGTE(start),
		slot.StartsAtLT(end), slot.Not(slot.HasAppointments())).ForUpdate().All(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]int, len(gone))
	for i, sl := range gone {
		ids[i] = sl.ID
	}
	if _, err := db.Slot.Delete().Where(slot.IDIn(ids...)).Exec(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

type rule struct {
	weekday            time.Weekday
	start, end, length int
}

func parseRule(field string, a *AvailabilityInput) (rule, error) {
	wd, ok := weekdays[string(a.Weekday)]
	if !ok {
		return rule{}, gqlerr.BadInput(field+".weekday", "unknown weekday %q", a.Weekday)
	}
	start, err := parseClock(a.Start)
	if err != nil {
		return rule{}, gqlerr.BadInput(field+".start", "start is HH:MM")
	}
	end, err := parseClock(a.End)
	if err != nil {
		return rule{}, gqlerr.BadInput(field+".end", "end is HH:MM (24:00 allowed)")
	}
	if end <= start {
		return rule{}, gqlerr.BadInput(field+".end", "end is after start")
	}
	if a.SlotMinutes < int(MinSlotLength.Minutes()) || a.SlotMinutes > int(MaxSlotLength.Minutes()) || a.SlotMinutes > end-start {
		return rule{}, gqlerr.BadInput(field+".slotMinutes", "slotMinutes is between %d and %d and fits the hours",
			int(MinSlotLength.Minutes()), int(MaxSlotLength.Minutes()))
	}
	return rule{weekday: wd, start: start, end: end, length: a.SlotMinutes}, nil
}

func checkRulesDisjoint(rules []rule) error {
	sorted := append([]rule(nil), rules...)
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].weekday != sorted[j].weekday {
			return sorted[i].weekday < sorted[j].weekday
		}
		return sorted[i].start < sorted[j].start
	})
	for i := 1; i < len(sorted); i++ {
		if sorted[i].weekday == sorted[i-1].weekday && sorted[i].start < sorted[i-1].end {
			return gqlerr.ConflictError(gqlerr.ReasonSlotOverlap, "weekly hours overlap on "+sorted[i].weekday.String())
		}
	}
	return nil
}

var weekdays = map[string]time.Weekday{
	"SUNDAY": time.Sunday, "MONDAY": time.Monday, "TUESDAY": time.Tuesday, "WEDNESDAY": time.Wednesday,
	"THURSDAY": time.Thursday, "FRIDAY": time.Friday, "SATURDAY": time.Saturday,
}

func parseClock(s string) (int, error) {
	if s == "24:00" {
		return 24 * 60, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

// materialise creates the slots the rules imply from tomorrow (local) for
// the given weeks, skipping days off and any period that already overlaps
// one of the doctor's slots.
func (s *Service) materialise(ctx context.Context, doctorID int, loc *time.Location, rules []rule, now time.Time, weeks int) ([]*ent.Slot, error) {
	// The existing slots are read under the lock, so a concurrent write
	// cannot slip a slot in between.
	if err := s.lockAgenda(ctx, doctorID); err != nil {
		return nil, err
	}
	db := s.db(ctx)
	local := now.In(loc)
	first := time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, loc)
	last := first.AddDate(0, 0, 7*weeks)
	offs, err := db.DayOff.Query().Where(dayoff.DoctorID(doctorID)).Select(dayoff.FieldDate).Strings(ctx)
	if err != nil {
		return nil, err
	}
	blocked := map[string]bool{}
	for _, d := range offs {
		blocked[d] = true
	}
	existing, err := db.Slot.Query().Where(slot.DoctorID(doctorID), slot.DeletedAtIsNil(),
		slot.EndsAtGT(first.UTC()), slot.StartsAtLT(last.UTC())).All(ctx)
	if err != nil {
		return nil, err
	}
	// The weeks asked for may reach past the horizon when it is short.
	horizon := s.horizon(now)
	var creates []*ent.SlotCreate
	for day := first; day.Before(last); day = day.AddDate(0, 0, 1) {
		if blocked[day.Format(dateLayout)] {
			continue
		}
		for _, r := range rules {
			if r.weekday != day.Weekday() {
				continue
			}
			for m := r.start; m+r.length <= r.end; m += r.length {
				// time.Date normalises the wall clock in loc, which is
				// what makes 09:00 mean 09:00 on both sides of a DST
				// change.
				start := time.Date(day.Year(), day.Month(), day.Day(), m/60, m%60, 0, 0, loc)
				end := time.Date(day.Year(), day.Month(), day.Day(), (m+r.length)/60, (m+r.length)%60, 0, 0, loc)
				if !end.After(start) || start.After(horizon) || overlapsAny(existing, start, end) {
					continue
				}
				creates = append(creates, db.Slot.Create().SetDoctorID(doctorID).
					SetStartsAt(start.UTC()).SetEndsAt(end.UTC()))
			}
		}
	}
	if len(creates) == 0 {
		return []*ent.Slot{}, nil
	}
	return db.Slot.CreateBulk(creates...).Save(ctx)
}

func overlapsAny(slots []*ent.Slot, start, end time.Time) bool {
	for _, s := range slots {
		if s.StartsAt.Before(end) && start.Before(s.EndsAt) {
			return true
		}
	}
	return false
}
