// Package txn picks the Ent client a service call runs on.
package txn

import (
	"context"

	"github.com/healthmed/healthmed/ent"
)

// Client returns the transaction of the current mutation (entgql's
// Transactioner puts it in the context), or c for reads outside one.
func Client(ctx context.Context, c *ent.Client) *ent.Client {
	if tx := ent.FromContext(ctx); tx != nil {
		return tx
	}
	return c
}
