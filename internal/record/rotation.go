package record

import (
	"context"

	"github.com/healthmed/healthmed/ent/recordfile"
	"github.com/healthmed/healthmed/internal/envelope"
	"github.com/healthmed/healthmed/internal/viewer"
)

const rewrapPage = 200

// RewrapKeys re-wraps the data key of every record file, deleted ones
// included, under the current KEK (see envelope.Keyring); the files' bytes
// are not touched. It is safe to run while the server serves, and again.
func (s *Service) RewrapKeys(ctx context.Context) (int, error) {
	ctx = viewer.SystemContext(ctx)
	return envelope.RewrapAll(ctx, s.Keys, rewrapPage, func(after int) ([]envelope.Sealed, error) {
		files, err := s.Client.RecordFile.Query().Where(recordfile.IDGT(after)).
			Order(recordfile.ByID()).Limit(rewrapPage).All(ctx)
		out := make([]envelope.Sealed, len(files))
		for i, f := range files {
			out[i] = envelope.Sealed{ID: f.ID, Wrapped: f.WrappedKey, AAD: keyAAD(f.StorageKey)}
		}
		return out, err
	}, func(id int, old, wrapped []byte) (bool, error) {
		n, err := s.Client.RecordFile.Update().Where(recordfile.ID(id), recordfile.WrappedKeyEQ(old)).
			SetWrappedKey(wrapped).Save(ctx)
		return n == 1, err
	})
}
