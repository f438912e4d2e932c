package db

import (
	"context"
	"database/sql/driver"
)

// GenericPlans wraps a connector so that each connection it opens plans
// its prepared statements once (plan_cache_mode = force_generic_plan).
//
// PostgreSQL's default re-plans a prepared statement for its arguments
// whenever it estimates the generic plan dearer than a custom one, which
// it does for the doctor search (a PostGIS function of a parameter in the
// select list): every search was planned again, prepared or not. The
// generic plan of each search is the index-ordered scan the plan test
// pins. Only prepared statements are concerned: lib/pq's other queries
// are unnamed statements, always planned for their arguments.
func GenericPlans(c driver.Connector) driver.Connector { return genericPlans{c} }

type genericPlans struct{ driver.Connector }

func (c genericPlans) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if ex, ok := conn.(driver.ExecerContext); ok {
		if _, err := ex.ExecContext(ctx, "SET plan_cache_mode = force_generic_plan", nil); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return conn, nil
}
