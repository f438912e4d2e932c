package notify

import (
	"context"
	"time"

	"entgo.io/contrib/entgql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/notification"
	"github.com/healthmed/healthmed/internal/clock"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/scalar"
	"github.com/healthmed/healthmed/internal/txn"
)

// Service is the signed-in user's notification list. Who sees what is
// the privacy policy's business (rule.FilterNotificationsForViewer and
// rule.AllowNotificationReadMark), which put the recipient into every
// query and update; who may call it at all is the schema's (@hasRole).
type Service struct {
	Client *ent.Client
	// Now is the clock; tests move it.
	Now func() time.Time
}

const (
	defaultPage = 20
	maxPage     = 100
)

// List returns the viewer's notifications, newest first.
func (s *Service) List(ctx context.Context, first *int, after *entgql.Cursor[int]) (*ent.NotificationConnection, error) {
	n := defaultPage
	if first != nil {
		if *first < 1 || *first > maxPage {
			return nil, gqlerr.BadInput("first", "first must be between 1 and %d", maxPage)
		}
		n = *first
	}
	if err := scalar.Expect(after, scalar.KindTime); err != nil {
		return nil, err
	}
	q, err := s.Client.Notification.Query().CollectFields(ctx)
	if err != nil {
		return nil, err
	}
	return q.Paginate(ctx, after, &n, nil, nil, ent.WithNotificationOrder(&ent.NotificationOrder{
		Direction: entgql.OrderDirectionDesc, Field: ent.NotificationOrderFieldCreatedAt,
	}))
}

// Unread counts the viewer's unread notifications.
func (s *Service) Unread(ctx context.Context) (int, error) {
	return s.Client.Notification.Query().Where(notification.ReadAtIsNil()).Count(ctx)
}

// MarkRead marks one of the viewer's notifications read. Someone else's
// reads as absent: NOT_FOUND.
func (s *Service) MarkRead(ctx context.Context, id int) (*ent.Notification, error) {
	db := s.db(ctx)
	n, err := db.Notification.Query().Where(notification.ID(id)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, gqlerr.NotFoundError("notification")
	}
	if err != nil || n.ReadAt != nil {
		return n, err
	}
	n, err = db.Notification.UpdateOne(n).SetReadAt(s.now()).Save(ctx)
	if ent.IsNotFound(err) {
		return nil, gqlerr.NotFoundError("notification")
	}
	return n, err
}

// MarkAllRead marks every unread notification of the viewer read and
// returns how many there were.
func (s *Service) MarkAllRead(ctx context.Context) (int, error) {
	return s.db(ctx).Notification.Update().Where(notification.ReadAtIsNil()).
		SetReadAt(s.now()).Save(ctx)
}

func (s *Service) now() time.Time { return clock.UTC(s.Now) }

func (s *Service) db(ctx context.Context) *ent.Client { return txn.Client(ctx, s.Client) }
