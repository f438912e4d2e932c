package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/mail"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"entgo.io/ent/dialect/sql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/accounttoken"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/notification"
	"github.com/healthmed/healthmed/ent/waitlistoffer"
	"github.com/healthmed/healthmed/internal/acctoken"
	"github.com/healthmed/healthmed/internal/meeting"
	"github.com/healthmed/healthmed/internal/viewer"
)

// Worker delivers the outbox by e-mail and enqueues the reminders. One
// goroutine runs it (Run); any number of replicas may run one each.
type Worker struct {
	Client *ent.Client
	// Mailer sends the e-mails; nil turns delivery off (the list in the
	// app and the reminders go on, the outbox waits).
	Mailer Mailer
	// Meetings makes each recipient's own meeting link.
	Meetings meeting.Provider
	// From is the sender; its domain names the Message-IDs.
	From mail.Address
	// LinkKey derives the secrets of account links (internal/acctoken);
	// AppURL is the front end they lead to.
	LinkKey acctoken.Key
	AppURL  string
	Log     *slog.Logger

	// Batch is how many rows one claim takes (20).
	Batch int
	// Lease is how long a claimed row is the worker's (2m); SendTimeout
	// bounds one SMTP dialogue (30s, at most half the lease).
	Lease       time.Duration
	SendTimeout time.Duration
	// MaxAttempts is how many times a message is tried before it is
	// FAILED (8). RetryBase doubles after each failure up to RetryMax
	// (30s, 1h), with jitter.
	MaxAttempts int
	RetryBase   time.Duration
	RetryMax    time.Duration
	// Poll is how often the outbox is read without a wake-up (5s);
	// ReminderEvery how often reminders are looked for (1m).
	Poll          time.Duration
	ReminderEvery time.Duration
	// Now is the reminder scheduler's clock (tests move it); nil means
	// the database's clock, which delivery always uses so that replicas
	// agree on leases whatever their own clocks say.
	Now func() time.Time

	wakeOnce sync.Once
	wake     chan struct{}
	// afterSend runs, in tests, between the server's acceptance of a
	// message and the SENT mark; an error stands for the process dying
	// right there.
	afterSend func(id int) error
}

// Wake makes a running worker read the outbox now.
func (w *Worker) Wake() {
	select {
	case w.wakeCh() <- struct{}{}:
	default:
	}
}

func (w *Worker) wakeCh() chan struct{} {
	w.wakeOnce.Do(func() { w.wake = make(chan struct{}, 1) })
	return w.wake
}

// Run delivers and schedules until ctx ends. A message being sent when
// ctx ends is finished; the rest of the batch is handed back.
func (w *Worker) Run(ctx context.Context) {
	var nextReminders time.Time
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		if !time.Now().Before(nextReminders) {
			if n, err := w.ScheduleReminders(ctx); err != nil && ctx.Err() == nil {
				w.log().Error("notify: scheduling reminders", "err", err.Error())
			} else if n > 0 {
				w.log().Info("notify: reminders enqueued", "count", n)
			}
			nextReminders = time.Now().Add(orDefault(w.ReminderEvery, time.Minute))
		}
		if w.Mailer != nil {
			for ctx.Err() == nil {
				n, err := w.RunOnce(ctx)
				if err != nil {
					if ctx.Err() == nil {
						w.log().Error("notify: delivering", "err", err.Error())
					}
					break
				}
				if n < w.batch() {
					break
				}
			}
		}
		timer.Reset(orDefault(w.Poll, 5*time.Second))
		select {
		case <-ctx.Done():
			return
		case <-w.wakeCh():
		case <-timer.C:
		}
	}
}

// errAbandoned is a worker that stopped dead in the middle of a batch
// (tests only): nothing more is written.
var errAbandoned = errors.New("notify: worker abandoned its batch")

// RunOnce claims one batch of due notifications and delivers it. It
// returns how many rows it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	if w.Mailer == nil {
		return 0, errors.New("notify: no mailer")
	}
	clock, err := w.dbClock(ctx)
	if err != nil {
		return 0, err
	}
	sys := viewer.SystemContext(ctx)
	if err := w.expire(sys, clock()); err != nil {
		return 0, err
	}
	rows, err := w.claim(sys, clock())
	if err != nil {
		return 0, err
	}
	for i, n := range rows {
		if ctx.Err() != nil {
			w.release(sys, rows[i:], clock())
			return len(rows), nil
		}
		if err := w.deliver(sys, n, clock); err != nil {
			if errors.Is(err, errAbandoned) {
				return len(rows), err
			}
			w.log().Error("notify: delivery bookkeeping failed; the lease will expire and the message go out again",
				"notification", n.ID, "err", err.Error())
		}
	}
	return len(rows), nil
}

// expire skips what is due but about a moment that has passed.
func (w *Worker) expire(ctx context.Context, now time.Time) error {
	_, err := w.Client.Notification.Update().
		Where(notification.EmailStatusIn(notification.EmailStatusPENDING, notification.EmailStatusSENDING),
			notification.NextAttemptAtLTE(now), notification.SendBeforeLT(now)).
		SetEmailStatus(notification.EmailStatusSKIPPED).ClearClaimedUntil().
		SetLastError("expired: the moment it was about has passed").
		Save(ctx)
	return err
}

// claim takes up to Batch due rows in a short transaction: locked with
// SKIP LOCKED, so concurrent workers pass each other by, and marked
// SENDING with a lease and one more attempt.
func (w *Worker) claim(ctx context.Context, now time.Time) ([]*ent.Notification, error) {
	tx, err := w.Client.Tx(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := tx.Notification.Query().
		Where(notification.EmailStatusIn(notification.EmailStatusPENDING, notification.EmailStatusSENDING),
			notification.NextAttemptAtLTE(now)).
		Order(ent.Asc(notification.FieldNextAttemptAt), ent.Asc(notification.FieldID)).
		Limit(w.batch()).
		ForUpdate(sql.WithLockAction(sql.SkipLocked)).
		All(ctx)
	if err != nil || len(rows) == 0 {
		return nil, errors.Join(err, tx.Rollback())
	}
	ids := make([]int, len(rows))
	for i, n := range rows {
		ids[i] = n.ID
	}
	until := now.Add(w.lease())
	if err := tx.Notification.Update().Where(notification.IDIn(ids...)).
		SetEmailStatus(notification.EmailStatusSENDING).AddAttempts(1).
		SetClaimedUntil(until).SetNextAttemptAt(until).
		Exec(ctx); err != nil {
		return nil, errors.Join(err, tx.Rollback())
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	for _, n := range rows {
		n.Attempts++
		n.EmailStatus = notification.EmailStatusSENDING
		n.ClaimedUntil = &until
	}
	return rows, nil
}

// deliver renders, sends and records one claimed row.
func (w *Worker) deliver(ctx context.Context, n *ent.Notification, clock func() time.Time) error {
	if n.Attempts > w.maxAttempts() {
		return w.finish(ctx, n, notification.EmailStatusFAILED, "no attempt left: the last worker lost its lease")
	}
	msg, skip, err := w.render(ctx, n, clock())
	if err != nil && ctx.Err() != nil {
		w.release(ctx, []*ent.Notification{n}, clock())
		return nil
	}
	if err != nil {
		return w.retry(ctx, n, clock(), err)
	}
	if skip != "" {
		return w.finish(ctx, n, notification.EmailStatusSKIPPED, skip)
	}
	// Renew the lease, fenced on the attempt, right before the send: a
	// row is only ever sent by the worker that holds it, within a lease
	// that outlasts the send's timeout.
	held, err := w.fenced(n).SetClaimedUntil(clock().Add(w.lease())).
		SetNextAttemptAt(clock().Add(w.lease())).Save(ctx)
	if err != nil && ctx.Err() != nil {
		w.release(ctx, []*ent.Notification{n}, clock())
		return nil
	}
	if err != nil {
		return err
	}
	if held == 0 {
		w.log().Warn("notify: lost the lease before sending; another worker has the message", "notification", n.ID)
		return nil
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.sendTimeout())
	err = w.Mailer.Send(sctx, msg)
	cancel()
	if err != nil {
		if IsPermanent(err) {
			w.log().Warn("notify: message refused", "notification", n.ID, "reply", replyCode(err))
			return w.finish(ctx, n, notification.EmailStatusFAILED, err.Error())
		}
		return w.retry(ctx, n, clock(), err)
	}
	if w.afterSend != nil {
		if err := w.afterSend(n.ID); err != nil {
			return fmt.Errorf("%w: %v", errAbandoned, err)
		}
	}
	// The server has the message: the SENT mark must not be lost to a
	// passing error, or the lease would expire and it would go out again.
	var last error
	for try := 0; try < 3; try++ {
		if try > 0 {
			time.Sleep(time.Duration(try) * 200 * time.Millisecond)
		}
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		var done int
		done, last = w.fenced(n).SetEmailStatus(notification.EmailStatusSENT).
			SetSentAt(clock()).ClearClaimedUntil().ClearLastError().Save(mctx)
		cancel()
		if last == nil {
			if done == 0 {
				w.log().Warn("notify: sent after losing the lease; the message may arrive twice", "notification", n.ID)
			}
			return nil
		}
	}
	return last
}

// retry schedules the next attempt after a failure, or gives up.
func (w *Worker) retry(ctx context.Context, n *ent.Notification, now time.Time, cause error) error {
	if n.Attempts >= w.maxAttempts() {
		w.log().Warn("notify: giving up", "notification", n.ID, "attempts", n.Attempts, "reply", replyCode(cause))
		return w.finish(ctx, n, notification.EmailStatusFAILED, cause.Error())
	}
	wait := w.backoff(n.Attempts)
	w.log().Warn("notify: send failed, will retry", "notification", n.ID, "attempt", n.Attempts,
		"retry_in", wait.String(), "reply", replyCode(cause))
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, err := w.fenced(n).SetEmailStatus(notification.EmailStatusPENDING).
		SetNextAttemptAt(now.Add(wait)).ClearClaimedUntil().SetLastError(clip(cause.Error())).
		Save(mctx)
	return err
}

// finish ends a row's delivery as FAILED or SKIPPED.
func (w *Worker) finish(ctx context.Context, n *ent.Notification, st notification.EmailStatus, why string) error {
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, err := w.fenced(n).SetEmailStatus(st).ClearClaimedUntil().SetLastError(clip(why)).Save(mctx)
	return err
}

// release hands back rows claimed but not tried, without counting the
// attempt: another worker may take them at once.
func (w *Worker) release(ctx context.Context, rows []*ent.Notification, now time.Time) {
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	for _, n := range rows {
		if _, err := w.fenced(n).SetEmailStatus(notification.EmailStatusPENDING).AddAttempts(-1).
			SetNextAttemptAt(now).ClearClaimedUntil().Save(mctx); err != nil {
			w.log().Warn("notify: handing a message back failed; it waits for its lease", "notification", n.ID, "err", err.Error())
		}
	}
}

// fenced is an update of a row this worker holds: same attempt, still
// SENDING. It matches nothing once another worker took the row over.
func (w *Worker) fenced(n *ent.Notification) *ent.NotificationUpdate {
	return w.Client.Notification.Update().Where(notification.ID(n.ID),
		notification.EmailStatusEQ(notification.EmailStatusSENDING), notification.Attempts(n.Attempts))
}

// backoff is the wait after the attempt-th failure: RetryBase doubled
// each time up to RetryMax, with "equal jitter" (between half and all of
// it), so that messages failed together do not retry together.
func (w *Worker) backoff(attempt int) time.Duration {
	base, max := orDefault(w.RetryBase, 30*time.Second), orDefault(w.RetryMax, time.Hour)
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return d/2 + rand.N(d/2+1)
}

// dbClock reads the database's clock once and runs it on with the local
// monotonic clock: every replica measures leases against the same time.
func (w *Worker) dbClock(ctx context.Context) (func() time.Time, error) {
	rows, err := w.Client.QueryContext(ctx, "SELECT clock_timestamp()")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var at time.Time
	if !rows.Next() {
		return nil, errors.Join(errors.New("notify: no database time"), rows.Err())
	}
	if err := rows.Scan(&at); err != nil {
		return nil, err
	}
	start := time.Now()
	return func() time.Time { return at.Add(time.Since(start)).UTC() }, nil
}

func (w *Worker) render(ctx context.Context, n *ent.Notification, now time.Time) (*Message, string, error) {
	c := content{Kind: n.Kind, ToDoctor: n.DoctorID != nil}
	var to, zone string
	var who meeting.Participant
	switch {
	case n.DoctorID != nil:
		d, err := w.Client.Doctor.Get(ctx, *n.DoctorID)
		if err != nil {
			return nil, "", err
		}
		to, zone, who = d.Email, d.Timezone, meeting.Participant{Name: d.Name, Moderator: true}
	case n.PatientID != nil:
		p, err := w.Client.Patient.Get(ctx, *n.PatientID)
		if err != nil {
			return nil, "", err
		}
		if p.DeactivatedAt != nil {
			return nil, "the recipient's account is deactivated", nil
		}
		to, who = p.Email, meeting.Participant{Name: p.Name}
	case n.RegistrationID != nil:
		r, err := w.Client.Registration.Get(ctx, *n.RegistrationID)
		if ent.IsNotFound(err) {
			return nil, "the registration no longer exists", nil
		}
		if err != nil {
			return nil, "", err
		}
		to = r.Email
	default:
		return nil, "no recipient", nil
	}
	if n.AccountTokenID != nil {
		t, err := w.Client.AccountToken.Get(ctx, *n.AccountTokenID)
		if ent.IsNotFound(err) {
			return nil, "the link no longer exists", nil
		}
		if err != nil {
			return nil, "", err
		}
		if t.UsedAt != nil || !t.ExpiresAt.After(now) {
			return nil, "the link was used or has expired", nil
		}
		// The link goes to the address it verifies (a new one, for a
		// change), derived again from the nonce: it is stored nowhere.
		to, c.LinkUntil = t.Email, t.ExpiresAt
		path := "/verify-email"
		if t.Purpose == accounttoken.PurposeRESET_PASSWORD {
			path = "/reset-password"
		}
		c.Link = acctoken.Link(w.AppURL, path, w.LinkKey.Secret(t.Nonce))
	}
	reminder := n.Kind == notification.KindREMINDER_24H || n.Kind == notification.KindREMINDER_1H
	switch n.Kind {
	case notification.KindEMAIL_VERIFICATION, notification.KindPASSWORD_RESET:
		if c.Link == "" {
			return nil, "no link", nil
		}
	case notification.KindREGISTRATION_ATTEMPT:
	case notification.KindSHARE_CREATED, notification.KindSHARE_REVOKED:
		if n.RecordShareID == nil {
			return nil, "the share no longer exists", nil
		}
		sh, err := w.Client.RecordShare.Get(ctx, *n.RecordShareID)
		if err != nil {
			return nil, "", err
		}
		c.ShareUntil = sh.ExpiresAt
	case notification.KindWAITLIST_OFFERED:
		if n.WaitlistOfferID == nil {
			return nil, "the offer no longer exists", nil
		}
		o, err := w.Client.WaitlistOffer.Query().Where(waitlistoffer.ID(*n.WaitlistOfferID)).
			WithSlot(func(q *ent.SlotQuery) { q.WithDoctor() }).Only(ctx)
		if ent.IsNotFound(err) {
			return nil, "the offer no longer exists", nil
		}
		if err != nil {
			return nil, "", err
		}
		if o.Status != waitlistoffer.StatusHELD || !o.ExpiresAt.After(now) {
			return nil, "the slot is no longer held", nil
		}
		d := o.Edges.Slot.Edges.Doctor
		c.DoctorName, c.StartsAt, c.HeldUntil, zone = d.Name, o.Edges.Slot.StartsAt, o.ExpiresAt, d.Timezone
	default:
		if n.AppointmentID == nil {
			return nil, "the appointment no longer exists", nil
		}
		a, err := w.Client.Appointment.Query().Where(appointment.ID(*n.AppointmentID)).WithDoctor().Only(ctx)
		if err != nil {
			return nil, "", err
		}
		c.DoctorName, c.StartsAt, zone = a.Edges.Doctor.Name, a.StartsAt, a.Edges.Doctor.Timezone
		if n.Kind == notification.KindRESCHEDULE_PROPOSED {
			if a.ProposedSlotID == nil {
				return nil, "the proposal was answered", nil
			}
			sl, err := w.Client.Slot.Get(ctx, *a.ProposedSlotID)
			if ent.IsNotFound(err) {
				return nil, "the proposed slot no longer exists", nil
			}
			if err != nil {
				return nil, "", err
			}
			c.ProposedAt = sl.StartsAt
		}
		if n.Kind == notification.KindBOOKING_RESCHEDULED && a.Status == appointment.StatusACCEPTED {
			if c.MeetingURL, err = w.joinURL(a, who); err != nil {
				return nil, "", err
			}
		}
		if reminder || n.Kind == notification.KindBOOKING_ACCEPTED {
			if a.Status != appointment.StatusACCEPTED {
				return nil, "the consultation is no longer confirmed", nil
			}
			if reminder && !a.StartsAt.After(now) {
				return nil, "the consultation has begun", nil
			}
			if c.MeetingURL, err = w.joinURL(a, who); err != nil {
				return nil, "", err
			}
		}
	}
	c.Zone = location(zone)
	subject, body := compose(c)
	return &Message{
		NotificationID: n.ID, MessageID: MessageIDFor(n.ID, domainOf(w.From.Address)),
		From: w.From, To: to, Subject: subject, Body: body, Date: n.CreatedAt,
	}, "", nil
}

// joinURL is the recipient's own link to the appointment's video room,
// or "" before it has one.
func (w *Worker) joinURL(a *ent.Appointment, who meeting.Participant) (string, error) {
	if a.MeetingURL == nil || a.MeetingStartsAt == nil || a.MeetingEndsAt == nil {
		return "", nil
	}
	room := meeting.Room{URL: *a.MeetingURL, StartsAt: *a.MeetingStartsAt, EndsAt: *a.MeetingEndsAt}
	if w.Meetings == nil {
		return room.URL, nil
	}
	return w.Meetings.JoinURL(room, who)
}

func location(name string) *time.Location {
	for _, n := range []string{name, "America/Sao_Paulo"} {
		if n == "" {
			continue
		}
		if loc, err := time.LoadLocation(n); err == nil {
			return loc
		}
	}
	return time.UTC
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && i < len(addr)-1 {
		return addr[i+1:]
	}
	return "healthmed.invalid"
}

// replyCode is what the logs say of a failure: the stage and the SMTP
// code, never the server's text, which may quote the address.
func replyCode(err error) string {
	var se *SendError
	if errors.As(err, &se) {
		if se.Code != 0 {
			return fmt.Sprintf("%s %d", se.Stage, se.Code)
		}
		return se.Stage
	}
	return "error"
}

// clip keeps last_error within its column.
func clip(s string) string {
	const max = 500
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

func (w *Worker) log() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.Default()
}

func (w *Worker) batch() int       { return orDefault(w.Batch, 20) }
func (w *Worker) maxAttempts() int { return orDefault(w.MaxAttempts, 8) }
func (w *Worker) lease() time.Duration {
	return orDefault(w.Lease, 2*time.Minute)
}

// sendTimeout is at most half the lease, so a send always ends well
// inside the lease renewed right before it.
func (w *Worker) sendTimeout() time.Duration {
	return min(orDefault(w.SendTimeout, 30*time.Second), w.lease()/2)
}

func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}
