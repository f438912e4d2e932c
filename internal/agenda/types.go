package agenda

import (
	"fmt"
	"io"
	"strconv"
	"time"
)

// The types below are the GraphQL types of the same names (gqlgen.yml
// binds them), so the API layer depends on the domain and not the reverse.

// SlotInput is a slot's time span as a client sends it.
type SlotInput struct {
	StartsAt time.Time `json:"startsAt"`
	EndsAt   time.Time `json:"endsAt"`
}

// AvailabilityInput is one rule of a doctor's weekly hours.
type AvailabilityInput struct {
	Weekday Weekday `json:"weekday"`
	// HH:MM
	Start string `json:"start"`
	// HH:MM; 24:00 is the end of the day.
	End         string `json:"end"`
	SlotMinutes int    `json:"slotMinutes"`
}

// Meeting is the video consultation of an accepted appointment.
type Meeting struct {
	URL      string    `json:"url"`
	StartsAt time.Time `json:"startsAt"`
	EndsAt   time.Time `json:"endsAt"`
}

// Weekday is the GraphQL enum Weekday: a day's name in capitals. An
// unknown name is refused where the rule is read (parseRule), with the
// input field it came in.
type Weekday string

// UnmarshalGQL reads a Weekday value.
func (w *Weekday) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("weekday must be a name such as MONDAY")
	}
	*w = Weekday(s)
	return nil
}

// MarshalGQL writes a Weekday value.
func (w Weekday) MarshalGQL(out io.Writer) { _, _ = io.WriteString(out, strconv.Quote(string(w))) }
