package agenda

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/internal/gqlerr"
)

// CalendarURL is where the appointment's iCalendar file is downloaded,
// with the viewer's bearer token.
func (s *Service) CalendarURL(a *ent.Appointment) string {
	return fmt.Sprintf("%s/appointments/%d/calendar.ics", strings.TrimRight(s.PublicURL, "/"), a.ID)
}

// Calendar returns the appointment as an iCalendar file (RFC 5545) for
// its patient or doctor, with the viewer's own meeting link. Its route
// admits doctors and patients; the privacy rule, the appointment's parties.
func (s *Service) Calendar(ctx context.Context, id int) ([]byte, error) {
	a, err := s.Client.Appointment.Query().Where(appointment.ID(id)).WithDoctor().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, gqlerr.NotFoundError("appointment")
	}
	if err != nil {
		return nil, err
	}
	m, err := s.Meeting(ctx, a)
	if err != nil {
		return nil, err
	}
	status := "TENTATIVE"
	switch a.Status {
	case appointment.StatusACCEPTED, appointment.StatusCOMPLETED:
		status = "CONFIRMED"
	case appointment.StatusCANCELLED, appointment.StatusREJECTED:
		status = "CANCELLED"
	}
	desc := "Teleconsulta healthmed com " + a.Edges.Doctor.Name + "."
	var b strings.Builder
	line := func(s string) { b.WriteString(fold(s)); b.WriteString("\r\n") }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//healthmed//agenda//PT-BR")
	line("METHOD:PUBLISH")
	line("BEGIN:VEVENT")
	line(fmt.Sprintf("UID:appointment-%d@healthmed", a.ID))
	line("DTSTAMP:" + icsTime(s.now()))
	line("DTSTART:" + icsTime(a.StartsAt))
	line("DTEND:" + icsTime(a.EndsAt))
	line("SUMMARY:" + icsText("Teleconsulta: "+a.Edges.Doctor.Name))
	line("STATUS:" + status)
	if m != nil {
		line("URL:" + m.URL)
		line("LOCATION:" + icsText(m.URL))
		desc += " Link: " + m.URL
	}
	line("DESCRIPTION:" + icsText(desc))
	line("END:VEVENT")
	line("END:VCALENDAR")
	return []byte(b.String()), nil
}

func icsTime(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// icsText escapes a TEXT value.
func icsText(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`, "\r", "").Replace(s)
}

// fold splits a content line at 75 octets, without cutting a UTF-8
// character, as RFC 5545 requires.
func fold(s string) string {
	if len(s) <= 75 {
		return s
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		l := len(string(r))
		if n+l > 75 {
			b.WriteString("\r\n ")
			n = 1
		}
		b.WriteRune(r)
		n += l
	}
	return b.String()
}
