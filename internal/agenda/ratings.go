package agenda

import (
	"context"
	"strings"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/viewer"
)

const maxCommentLength = 2000

// Rate records the patient's one rating of a completed appointment.
func (s *Service) Rate(ctx context.Context, id, stars int, comment *string) (*ent.Feedback, error) {
	v := viewer.FromContext(ctx)
	if stars < 1 || stars > 5 {
		return nil, gqlerr.BadInput("stars", "stars is between 1 and 5")
	}
	c := ""
	if comment != nil {
		c = strings.TrimSpace(*comment)
		if len([]rune(c)) > maxCommentLength {
			return nil, gqlerr.BadInput("comment", "comment has at most %d characters", maxCommentLength)
		}
	}
	db := s.db(ctx)
	a, err := db.Appointment.Query().Where(appointment.ID(id)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, gqlerr.NotFoundError("appointment")
	}
	if err != nil {
		return nil, err
	}
	if a.Status != appointment.StatusCOMPLETED {
		return nil, gqlerr.ConflictError(gqlerr.ReasonInvalidTransition, "only a completed appointment can be rated")
	}
	// The Feedback schema folds it into the doctor's average.
	return db.Feedback.Create().SetAppointmentID(a.ID).SetDoctorID(a.DoctorID).SetPatientID(v.ID).
		SetStars(stars).SetComment(c).Save(ctx)
}
