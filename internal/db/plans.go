package db

import (
	"context"
	"database/sql/driver"
	"strings"

	"github.com/lib/pq"
)

// GenericPlans has the prepared statements run with ctx execute their
// generic plan: PostgreSQL plans them once per connection instead of at
// every execution. A transaction begun with ctx runs all of its
// statements so, its triggers' included, whatever context each is then
// run with. Planning the doctor search costs about as much as running
// it, and planning was about two fifths of PostgreSQL's CPU per booking;
// the generic plans of both are checked by the plan tests of bench.
// Every other statement keeps the pool's plan_cache_mode (Open: planned
// for its arguments).
func GenericPlans(ctx context.Context) context.Context {
	return context.WithValue(ctx, genericKey{}, true)
}

type genericKey struct{}

const forceGeneric = "force_generic_plan"

// plan gives the session the plan_cache_mode the statement run with ctx
// needs. The setting is changed only when it differs from the session's,
// one round trip that is rare while one kind of statement dominates a
// connection's work. Never inside a transaction: a rollback would undo it
// unseen, so a transaction runs in the mode it was begun in (BeginTx).
func (c *preparedConn) plan(ctx context.Context) error {
	if c.inTx {
		return nil
	}
	if want := c.wanted(ctx); c.mode != want {
		return c.setMode(ctx, want)
	}
	return nil
}

// AsksGenericPlans reports whether ctx was made by GenericPlans.
func AsksGenericPlans(ctx context.Context) bool {
	g, _ := ctx.Value(genericKey{}).(bool)
	return g
}

// wanted is the plan_cache_mode of the statements run with ctx.
func (c *preparedConn) wanted(ctx context.Context) string {
	if AsksGenericPlans(ctx) {
		return forceGeneric
	}
	return c.base
}

func (c *preparedConn) setMode(ctx context.Context, mode string) error {
	c.mode = ""
	if _, err := c.pqConn.ExecContext(ctx, "SET plan_cache_mode = "+pq.QuoteLiteral(mode), nil); err != nil {
		return err
	}
	c.mode = mode
	return nil
}

// sawSetting forgets the session's mode when a statement may have changed
// it (a SET or RESET sent by hand): the next prepared statement sets it.
func (c *preparedConn) sawSetting(query string) {
	if strings.Contains(query, "plan_cache_mode") {
		c.mode = ""
	}
}

// BeginTx sets the session's mode before BEGIN, where it outlives the
// transaction however it ends.
func (c *preparedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if want := c.wanted(ctx); c.mode != want {
		if err := c.setMode(ctx, want); err != nil {
			return nil, err
		}
	}
	tx, err := c.pqConn.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	c.inTx = true
	return modeTx{tx, c}, nil
}

type modeTx struct {
	driver.Tx
	c *preparedConn
}

func (t modeTx) Commit() error {
	defer func() { t.c.inTx = false }()
	return t.Tx.Commit()
}

func (t modeTx) Rollback() error {
	defer func() { t.c.inTx = false }()
	return t.Tx.Rollback()
}

// PrepareContext prepares a statement database/sql keeps (sql.Stmt, as
// Prepared uses) so that it runs in the plan_cache_mode of its context.
func (c *preparedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	s, err := c.pqConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st, ok := s.(pqStmt)
	if !ok {
		return s, nil // a COPY
	}
	return planStmt{st, c}, nil
}

type planStmt struct {
	pqStmt
	c *preparedConn
}

func (s planStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if err := s.c.plan(ctx); err != nil {
		return nil, err
	}
	return s.pqStmt.QueryContext(ctx, args)
}

func (s planStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if err := s.c.plan(ctx); err != nil {
		return nil, err
	}
	return s.pqStmt.ExecContext(ctx, args)
}
