package coverage

import (
	"context"

	"github.com/healthmed/healthmed/ent/insuranceplan"
	"github.com/healthmed/healthmed/internal/envelope"
	"github.com/healthmed/healthmed/internal/viewer"
)

const rewrapPage = 200

// RewrapCards re-wraps every sealed insurance card under the current KEK
// (see envelope.Keyring). It is safe to run while the server serves, and
// again.
func (s *Service) RewrapCards(ctx context.Context) (int, error) {
	ctx = viewer.SystemContext(ctx)
	return envelope.RewrapAll(ctx, s.Keys, rewrapPage, func(after int) ([]envelope.Sealed, error) {
		plans, err := s.Client.InsurancePlan.Query().Where(insuranceplan.IDGT(after)).
			Order(insuranceplan.ByID()).Limit(rewrapPage).All(ctx)
		out := make([]envelope.Sealed, len(plans))
		for i, p := range plans {
			out[i] = envelope.Sealed{ID: p.ID, Wrapped: p.CardSealed, AAD: cardAAD(p.PatientID)}
		}
		return out, err
	}, func(id int, old, wrapped []byte) (bool, error) {
		n, err := s.Client.InsurancePlan.Update().Where(insuranceplan.ID(id), insuranceplan.CardSealedEQ(old)).
			SetCardSealed(wrapped).Save(ctx)
		return n == 1, err
	})
}
