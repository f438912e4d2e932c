package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"

	"github.com/lib/pq"
)

// Open returns the pool of dsn that the server (and the tests, so that
// they run what it runs) send their statements through.
//
// Each connection keeps its statements prepared, by their text: lib/pq
// otherwise sends every statement with parameters in two round trips
// (parse and describe, then bind and execute) and PostgreSQL parses it
// anew each time. A prepared one goes in one round trip and is not parsed
// again. Planning stays as it was: plan_cache_mode=force_custom_plan has
// PostgreSQL plan every execution with its parameters' values, as for an
// unnamed statement, so no query can drift to a generic plan that ignores
// them (the distance estimates of the search depend on them). The doctor
// search's statements and the appointments' status transactions, whose
// generic plans are checked, are the exceptions they ask for
// (GenericPlans).
func Open(dsn string) (*sql.DB, error) {
	cfg, err := pq.NewConfig(dsn)
	if err != nil {
		return nil, err
	}
	if cfg.Runtime == nil {
		cfg.Runtime = map[string]string{}
	}
	if _, set := cfg.Runtime["plan_cache_mode"]; !set {
		cfg.Runtime["plan_cache_mode"] = "force_custom_plan"
	}
	c, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(preparing{c, cfg.Runtime["plan_cache_mode"]}), nil
}

// maxPrepared bounds the statements one connection keeps: the server's
// statements are a few hundred texts, and a text outside them (an IN list
// of a new length) runs unprepared once the cache is full.
const maxPrepared = 512

type preparing struct {
	*pq.Connector
	planMode string // the sessions' plan_cache_mode
}

func (p preparing) Connect(ctx context.Context) (driver.Conn, error) {
	c, err := p.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &preparedConn{pqConn: c.(pqConn), stmts: map[string]pqStmt{}, base: p.planMode, mode: p.planMode}, nil
}

// pqConn is what database/sql uses of a lib/pq connection.
type pqConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.QueryerContext
	driver.ExecerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
	driver.NamedValueChecker
}

type pqStmt interface {
	driver.Stmt
	driver.StmtQueryContext
	driver.StmtExecContext
}

// preparedConn is used by one goroutine at a time, as every driver.Conn.
type preparedConn struct {
	pqConn
	stmts map[string]pqStmt
	// base is the session's plan_cache_mode as opened, mode what it is
	// now ("" when unknown), inTx whether a transaction is open.
	base, mode string
	inTx       bool
}

// stmt returns the statement prepared for query, preparing it if need be,
// or nil when it is to run unprepared.
func (c *preparedConn) stmt(ctx context.Context, query string, args []driver.NamedValue) (pqStmt, error) {
	if len(args) == 0 {
		// lib/pq sends these as simple queries, in one round trip.
		return nil, nil
	}
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	if len(c.stmts) >= maxPrepared {
		return nil, nil
	}
	s, err := c.pqConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st, ok := s.(pqStmt)
	if !ok {
		// A COPY: not for reuse.
		return nil, errors.Join(errors.New("db: statement cannot be prepared for reuse"), s.Close())
	}
	c.stmts[query] = st
	return st, nil
}

func (c *preparedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	st, err := c.stmt(ctx, query, args)
	if err != nil {
		return nil, err
	}
	if st == nil {
		c.sawSetting(query)
		return c.pqConn.QueryContext(ctx, query, args)
	}
	if err := c.plan(ctx); err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args)
	c.check(query, err)
	return rows, err
}

func (c *preparedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	st, err := c.stmt(ctx, query, args)
	if err != nil {
		return nil, err
	}
	if st == nil {
		c.sawSetting(query)
		return c.pqConn.ExecContext(ctx, query, args)
	}
	if err := c.plan(ctx); err != nil {
		return nil, err
	}
	res, err := st.ExecContext(ctx, args)
	c.check(query, err)
	return res, err
}

// check forgets the statement of query when err says it can no longer
// run as prepared: its result changed shape under it (a column added to
// a table it reads with *, during a rolling deployment), or it is gone
// from the session. The statement fails this once and is prepared again
// the next time. It is left for the session's end to free: closing it
// would be another round trip, on a connection that may be in a failed
// transaction.
func (c *preparedConn) check(query string, err error) {
	var pe *pq.Error
	if errors.As(err, &pe) && (pe.Code == "0A000" || pe.Code == "26000") {
		delete(c.stmts, query)
	}
}
