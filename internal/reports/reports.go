// Package reports is what a clinic administrator reads: consultations per
// doctor and status, revenue per month, average ratings and no-shows.
//
// Each report is one SQL aggregate run by PostgreSQL, never rows pulled
// into Go. This is raw SQL, so it bypasses the Ent privacy policies: every
// entry point checks the admin role first, and the reports return counts
// and sums per doctor, never a patient.
//
// The indexes they rely on are in the migration reports_indexes: a
// covering index on appointments(starts_at) for the two appointment
// reports (index-only scans), a partial covering index on the paid
// invoices by paid_at for revenue, one on the server-completed invoices
// for no-shows, and a covering index on feedbacks(created_at).
package reports

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/internal/clock"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/validate"
)

// MaxRange bounds a report's range.
const MaxRange = 5 * 366 * 24 * time.Hour

// Service runs the reports.
type Service struct {
	DB *sql.DB
	// Location is the clinic's time zone: revenue months are its months.
	Location *time.Location
	Now      func() time.Time
}

func (s *Service) now() time.Time { return clock.UTC(s.Now) }

func (s *Service) zone() string {
	if s.Location != nil {
		return s.Location.String()
	}
	return "UTC"
}

func checkRange(from, to time.Time) error {
	switch {
	case !from.Before(to):
		return gqlerr.BadInput("to", "to must be after from")
	case to.Sub(from) > MaxRange:
		return gqlerr.BadInput("to", "a report covers at most five years")
	}
	return nil
}

// Consultations counts the appointments starting in [from, to) per doctor
// and status, ordered by doctor name then status.
func (s *Service) Consultations(ctx context.Context, from, to time.Time) ([]*ConsultationCount, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	rows, err := s.DB.QueryContext(ctx, `
SELECT c.doctor_id, d.name, d.crm_number, d.crm_state, c.status, c.n
FROM (SELECT doctor_id, status, count(*) AS n
      FROM appointments
      WHERE starts_at >= $1 AND starts_at < $2
      GROUP BY doctor_id, status) c
JOIN doctors d ON d.id = c.doctor_id
ORDER BY d.name, c.doctor_id, c.status`, from.UTC(), to.UTC())
	if err != nil {
		return nil, err
	}
	out := []*ConsultationCount{}
	err = scanAll(rows, func() error {
		var c ConsultationCount
		var number, state, status string
		if err := rows.Scan(&c.DoctorID, &c.DoctorName, &number, &state, &status, &c.Count); err != nil {
			return err
		}
		c.Crm, c.Status = validate.FormatCRM(number, state), appointment.Status(status)
		out = append(out, &c)
		return nil
	})
	return out, err
}

// Revenue sums the invoices paid in [from, to) per month of the clinic's
// time zone. Revenue is cash: an invoice counts in the month it was
// paid, at the amount agreed at booking; open and void invoices do not
// count.
func (s *Service) Revenue(ctx context.Context, from, to time.Time) ([]*MonthlyRevenue, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	// The month is formatted after grouping: to_char on every paid
	// invoice costs a third of the query on a million rows.
	rows, err := s.DB.QueryContext(ctx, `
SELECT to_char(m, 'YYYY-MM'), revenue, n
FROM (SELECT date_trunc('month', paid_at AT TIME ZONE $3) AS m,
             sum(amount_cents)::bigint AS revenue, count(*) AS n
      FROM invoices
      WHERE status = 'PAID' AND paid_at >= $1 AND paid_at < $2
      GROUP BY 1) r
ORDER BY m`, from.UTC(), to.UTC(), s.zone())
	if err != nil {
		return nil, err
	}
	out := []*MonthlyRevenue{}
	err = scanAll(rows, func() error {
		var m MonthlyRevenue
		if err := rows.Scan(&m.Month, &m.RevenueCents, &m.Invoices); err != nil {
			return err
		}
		out = append(out, &m)
		return nil
	})
	return out, err
}

// Ratings averages the ratings given in [from, to) per doctor (either
// bound may be left open), best first.
func (s *Service) Ratings(ctx context.Context, from, to *time.Time) ([]*DoctorRating, error) {
	if from != nil && to != nil {
		if err := checkRange(*from, *to); err != nil {
			return nil, err
		}
	}
	// A rating an admin hid leaves every average, this one included.
	where := []string{"hidden_at IS NULL"}
	var args []any
	if from != nil {
		args = append(args, from.UTC())
		where = append(where, fmt.Sprintf("created_at >= $%d", len(args)))
	}
	if to != nil {
		args = append(args, to.UTC())
		where = append(where, fmt.Sprintf("created_at < $%d", len(args)))
	}
	cond := "WHERE " + strings.Join(where, " AND ")
	rows, err := s.DB.QueryContext(ctx, `
SELECT f.doctor_id, d.name, f.average, f.n
FROM (SELECT doctor_id, avg(stars)::float8 AS average, count(*) AS n
      FROM feedbacks `+cond+`
      GROUP BY doctor_id) f
JOIN doctors d ON d.id = f.doctor_id
ORDER BY f.average DESC, f.n DESC, d.name, f.doctor_id`, args...)
	if err != nil {
		return nil, err
	}
	out := []*DoctorRating{}
	err = scanAll(rows, func() error {
		var r DoctorRating
		if err := rows.Scan(&r.DoctorID, &r.DoctorName, &r.Average, &r.Ratings); err != nil {
			return err
		}
		out = append(out, &r)
		return nil
	})
	return out, err
}

// NoShows reports, for the appointments starting in [from, to) whose end
// has passed, how many were never confirmed as held by the doctor (see
// the NoShowFigures type in the schema for the definitions).
func (s *Service) NoShows(ctx context.Context, from, to time.Time) (*NoShowReport, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	rows, err := s.DB.QueryContext(ctx, `
WITH a AS (
  SELECT doctor_id,
         count(*) FILTER (WHERE status = 'COMPLETED') AS completed,
         count(*) FILTER (WHERE status = 'ACCEPTED') AS unconfirmed
  FROM appointments
  WHERE starts_at >= $1 AND starts_at < $2 AND ends_at < $3
    AND status IN ('ACCEPTED', 'COMPLETED')
  GROUP BY doctor_id
), auto AS (
  SELECT doctor_id, count(*) AS n
  FROM invoices
  WHERE issued_by = 'SYSTEM' AND service_at >= $1 AND service_at < $2
  GROUP BY doctor_id
), marked AS (
  SELECT doctor_id, count(*) AS n
  FROM appointments
  WHERE no_show AND starts_at >= $1 AND starts_at < $2 AND ends_at < $3
  GROUP BY doctor_id
)
SELECT a.doctor_id, d.name, a.completed, a.unconfirmed, coalesce(auto.n, 0), coalesce(marked.n, 0)
FROM a
JOIN doctors d ON d.id = a.doctor_id
LEFT JOIN auto ON auto.doctor_id = a.doctor_id
LEFT JOIN marked ON marked.doctor_id = a.doctor_id
ORDER BY d.name, a.doctor_id`, from.UTC(), to.UTC(), s.now())
	if err != nil {
		return nil, err
	}
	rep := &NoShowReport{Total: &NoShowFigures{}, ByDoctor: []*DoctorNoShow{}}
	err = scanAll(rows, func() error {
		d := &DoctorNoShow{Figures: &NoShowFigures{}}
		f := d.Figures
		if err := rows.Scan(&d.DoctorID, &d.DoctorName, &f.Completed, &f.Unconfirmed, &f.AutoCompleted, &f.Marked); err != nil {
			return err
		}
		fill(f)
		t := rep.Total
		t.Completed, t.Unconfirmed, t.AutoCompleted = t.Completed+f.Completed, t.Unconfirmed+f.Unconfirmed, t.AutoCompleted+f.AutoCompleted
		t.Marked += f.Marked
		rep.ByDoctor = append(rep.ByDoctor, d)
		return nil
	})
	fill(rep.Total)
	return rep, err
}

func fill(f *NoShowFigures) {
	f.Eligible = f.Completed + f.Unconfirmed
	f.NoShows = f.Unconfirmed + f.AutoCompleted + f.Marked
	if f.Eligible > 0 {
		f.Rate = float64(f.NoShows) / float64(f.Eligible)
	}
}

func scanAll(rows *sql.Rows, each func() error) error {
	defer rows.Close()
	for rows.Next() {
		if err := each(); err != nil {
			return err
		}
	}
	return rows.Err()
}
