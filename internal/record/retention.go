package record

import (
	"context"
	"fmt"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/recordfile"
	"github.com/healthmed/healthmed/internal/viewer"
)

// DefaultRetention is how long the bytes of a deleted file are kept: long
// enough to undo a patient's mistake through support, short enough that
// deletion means something.
const DefaultRetention = 30 * 24 * time.Hour

// PurgeDeleted erases files deleted before cutoff: first their stored
// bytes, then their rows (with the rows' places in shares). In that order
// a failure half way leaves a row whose bytes the next run deletes again,
// never bytes that no row names. Audit rows keep the file's id.
//
// Run it periodically (daily, with cutoff = now - DefaultRetention) from
// one replica or several: store deletes are idempotent and a row deleted
// by another run is simply gone. It returns how many files it erased.
func (s *Service) PurgeDeleted(ctx context.Context, cutoff time.Time) (int, error) {
	ctx = viewer.SystemContext(ctx)
	const batch = 100
	purged := 0
	for {
		files, err := s.Client.RecordFile.Query().
			Where(recordfile.DeletedAtLT(cutoff)).
			Order(recordfile.ByID()).Limit(batch).All(ctx)
		if err != nil {
			return purged, err
		}
		for _, f := range files {
			if err := s.Store.Delete(ctx, f.StorageKey); err != nil {
				return purged, fmt.Errorf("erase bytes of file %d: %w", f.ID, err)
			}
			if err := s.Client.RecordFile.DeleteOneID(f.ID).Exec(ctx); err != nil && !ent.IsNotFound(err) {
				return purged, fmt.Errorf("erase file %d: %w", f.ID, err)
			}
			purged++
		}
		if len(files) < batch {
			return purged, nil
		}
	}
}
