package review

import (
	"context"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/auditevent"
	"github.com/healthmed/healthmed/ent/feedback"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/viewer"
)

// MaxReasonLength bounds the reason an admin gives for hiding a review.
const MaxReasonLength = 500

// Reply records the signed-in doctor's one reply to a review of theirs.
// The condition "not replied yet" is in the UPDATE itself, so of two
// replies sent at once exactly one is kept (CONFLICT/ALREADY_REPLIED).
func (s *Service) Reply(ctx context.Context, id int, text string) (*Review, error) {
	text, err := cleanText("text", text, MaxReplyLength)
	if err != nil {
		return nil, err
	}
	db := s.db(ctx)
	// The privacy policy narrows the UPDATE to the doctor's own reviews.
	n, err := db.Feedback.Update().Where(feedback.ID(id), feedback.ReplyIsNil(), feedback.HiddenAtIsNil()).
		SetReply(text).SetRepliedAt(s.now()).Save(ctx)
	if err != nil {
		return nil, err
	}
	f, err := db.Feedback.Query().Where(feedback.ID(id), feedback.DoctorID(viewer.FromContext(ctx).ID)).Only(ctx)
	if ent.IsNotFound(err) || (err == nil && f.HiddenAt != nil) {
		return nil, gqlerr.NotFoundError("review")
	}
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, gqlerr.ConflictError(gqlerr.ReasonAlreadyReplied, "this review has a reply already")
	}
	return s.one(ctx, f)
}

// Hide takes a review out of the public list and, through the Feedback
// schema, out of the doctor's average, with an audit row naming the admin
// and the reason.
func (s *Service) Hide(ctx context.Context, id int, reason string) (*Review, error) {
	reason, err := cleanText("reason", reason, MaxReasonLength)
	if err != nil {
		return nil, err
	}
	db := s.db(ctx)
	f, err := db.Feedback.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, gqlerr.NotFoundError("review")
	}
	if err != nil {
		return nil, err
	}
	n, err := db.Feedback.Update().Where(feedback.ID(id), feedback.HiddenAtIsNil()).
		SetHiddenAt(s.now()).Save(ctx)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, gqlerr.ConflictError(gqlerr.ReasonAlreadyHidden, "this review is hidden already")
	}
	v := viewer.FromContext(ctx)
	if err := db.AuditEvent.Create().SetAction(auditevent.ActionREVIEW_HIDE).SetAllowed(true).
		SetActorRole(v.Role.String()).SetActorID(v.ID).SetClientAddr(v.ClientAddr).
		SetDetail("review " + strconv.Itoa(id) + " of doctor " + strconv.Itoa(f.DoctorID) + ": " + reason).
		Exec(ctx); err != nil {
		return nil, err
	}
	if f, err = db.Feedback.Get(ctx, id); err != nil {
		return nil, err
	}
	return s.one(ctx, f)
}

func (s *Service) one(ctx context.Context, f *ent.Feedback) (*Review, error) {
	r, err := s.present(ctx, []*ent.Feedback{f})
	if err != nil {
		return nil, err
	}
	return r[0], nil
}

// cleanText trims v and refuses it blank, too long, or with characters
// that could change how the text around it is shown.
func cleanText(field, v string, max int) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "", gqlerr.BadInput(field, "%s is required", field)
	case !utf8.ValidString(v):
		return "", gqlerr.BadInput(field, "%s is not valid text", field)
	case len([]rune(v)) > max:
		return "", gqlerr.BadInput(field, "%s has at most %d characters", field, max)
	case strings.ContainsFunc(v, func(r rune) bool {
		return unicode.Is(unicode.Cf, r) || (unicode.IsControl(r) && r != '\n' && r != '\t')
	}):
		return "", gqlerr.BadInput(field, "%s must not contain control or formatting characters", field)
	}
	return v, nil
}
