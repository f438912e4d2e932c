package record

import (
	"strconv"

	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/ratelimit"
	"github.com/healthmed/healthmed/internal/viewer"
)

// AuditBudget bounds the rows one doctor writes into patients' access
// logs, per replica: views and downloads are real accesses, but a loop
// over sharedRecords must not bury the entries a patient needs to read,
// and refused attempts are rarer still. An access past the budget is
// refused as RATE_LIMITED before anything is shown, so nothing is seen
// without its row. Patients write only into their own log; it is not
// limited here.
type AuditBudget struct {
	Views, Refusals *ratelimit.Limiter
}

// DefaultAuditBudget: a whole shared list at once and a long clinic day
// of views; a handful of refused attempts, then a couple a minute.
func DefaultAuditBudget() AuditBudget {
	return AuditBudget{
		Views:    ratelimit.New(60, maxSharedList*2, nil),
		Refusals: ratelimit.New(2, 20, nil),
	}
}

// take charges the viewer for the rows, all or nothing.
func (b AuditBudget) take(v viewer.Viewer, rows []access) error {
	if !v.IsDoctor() {
		return nil
	}
	var views, refusals int
	for _, a := range rows {
		if a.allowed {
			views++
		} else {
			refusals++
		}
	}
	key := v.Role.String() + ":" + strconv.Itoa(v.ID)
	if ok, wait := b.Refusals.AllowN(key, refusals); !ok {
		return gqlerr.RateLimitedError(wait)
	}
	if ok, wait := b.Views.AllowN(key, views); !ok {
		return gqlerr.RateLimitedError(wait)
	}
	return nil
}

// worthKeeping drops the refused accesses that are no access attempt on
// a patient's record: anonymous callers', patients' and those naming no
// patient (a forged link). The privacy rule refuses them too; dropping
// them here keeps such a request's answer a plain refusal.
func worthKeeping(v viewer.Viewer, rows []access) []access {
	kept := rows[:0:0]
	for _, a := range rows {
		if a.allowed || v.IsDoctor() && a.patientID != 0 {
			kept = append(kept, a)
		}
	}
	return kept
}
