// Package review is what patients read about a doctor: the ratings with
// their comments, newest first, each signed with the patient's first name
// only, and the doctor's one reply; admins hide what breaks the rules,
// and a hidden rating leaves the doctor's average.
package review

import (
	"context"
	"strings"
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/dialect/sql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/feedback"
	"github.com/healthmed/healthmed/ent/patient"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/scalar"
	"github.com/healthmed/healthmed/internal/txn"
	"github.com/healthmed/healthmed/internal/viewer"
)

const (
	DefaultFirst = 10
	MaxFirst     = 50
	// MaxReplyLength is the longest reply, as long as a comment may be.
	MaxReplyLength = 2000
)

// Service lists, answers and hides reviews.
type Service struct {
	Client *ent.Client
	Now    func() time.Time
}

// Review is one rating as the public sees it.
type Review struct {
	ID        int       `json:"id"`
	Stars     int       `json:"stars"`
	Comment   string    `json:"comment"`
	CreatedAt time.Time `json:"createdAt"`
	// The patient's first name, and nothing else of them.
	Author    string     `json:"author"`
	Reply     *string    `json:"reply,omitempty"`
	RepliedAt *time.Time `json:"repliedAt,omitempty"`
	// Only admins and the review's author see hidden reviews.
	Hidden bool `json:"hidden"`
}

// Connection is a page of a doctor's reviews.
type Connection struct {
	Edges    []*Edge              `json:"edges"`
	PageInfo entgql.PageInfo[int] `json:"pageInfo"`
}

// Edge is one review and its cursor.
type Edge struct {
	Node   *Review       `json:"node"`
	Cursor scalar.Cursor `json:"cursor"`
}

func (s *Service) db(ctx context.Context) *ent.Client { return txn.Client(ctx, s.Client) }

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// List pages through a doctor's reviews, newest first; reviews given at
// the same instant go by id, also descending. The keyset on (created_at,
// id) never repeats nor skips one, whatever is written meanwhile.
func (s *Service) List(ctx context.Context, doctorID int, first *int, after *scalar.Cursor) (*Connection, error) {
	n, err := gqlerr.Page(first, DefaultFirst, MaxFirst)
	if err != nil {
		return nil, err
	}
	if err := scalar.Expect(after, scalar.KindNewest); err != nil {
		return nil, err
	}
	q := s.db(ctx).Feedback.Query().Where(feedback.DoctorID(doctorID))
	if after != nil {
		at, id := after.Value.(scalar.Newest).At, after.ID
		q.Where(func(s *sql.Selector) {
			c := s.C(feedback.FieldCreatedAt)
			s.Where(sql.Or(sql.LT(c, at), sql.And(sql.EQ(c, at), sql.LT(s.C(feedback.FieldID), id))))
		})
	}
	rows, err := q.Order(feedback.ByCreatedAt(sql.OrderDesc()), feedback.ByID(sql.OrderDesc())).
		Limit(n + 1).All(ctx)
	if err != nil {
		return nil, err
	}
	conn := &Connection{}
	conn.PageInfo.HasPreviousPage = after != nil
	if len(rows) > n {
		conn.PageInfo.HasNextPage = true
		rows = rows[:n]
	}
	reviews, err := s.present(ctx, rows)
	if err != nil {
		return nil, err
	}
	for _, r := range reviews {
		c := scalar.Cursor{ID: r.ID, Value: scalar.Newest{At: r.CreatedAt}}
		conn.Edges = append(conn.Edges, &Edge{Node: r, Cursor: c})
	}
	if len(conn.Edges) > 0 {
		conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
		conn.PageInfo.EndCursor = &conn.Edges[len(conn.Edges)-1].Cursor
	}
	return conn, nil
}

// present makes the public reviews of rows. The authors' names are read
// as the server, one query for the page, and only their first word
// leaves this function: a stranger may not read a patient's profile.
func (s *Service) present(ctx context.Context, rows []*ent.Feedback) ([]*Review, error) {
	ids := make([]int, 0, len(rows))
	for _, f := range rows {
		ids = append(ids, f.PatientID)
	}
	names := map[int]string{}
	if len(ids) > 0 {
		pats, err := s.db(ctx).Patient.Query().Where(patient.IDIn(ids...)).
			Select(patient.FieldID, patient.FieldName).All(viewer.SystemContext(ctx))
		if err != nil {
			return nil, err
		}
		for _, p := range pats {
			names[p.ID] = FirstName(p.Name)
		}
	}
	out := make([]*Review, len(rows))
	for i, f := range rows {
		out[i] = &Review{ID: f.ID, Stars: f.Stars, Comment: f.Comment, CreatedAt: f.CreatedAt,
			Author: names[f.PatientID], Reply: f.Reply, RepliedAt: f.RepliedAt, Hidden: f.HiddenAt != nil}
	}
	return out, nil
}

// FirstName is the first word of a full name.
func FirstName(full string) string {
	if f := strings.Fields(full); len(f) > 0 {
		return f[0]
	}
	return ""
}
