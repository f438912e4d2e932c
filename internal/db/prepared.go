package db

import (
	"container/list"
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// Prepared is the Ent driver of the server: the queries it sends outside
// transactions run as prepared statements, kept per query text in a
// bounded cache (database/sql prepares each on a connection the first
// time it runs there). PostgreSQL then parses a statement once per
// connection and, after a few runs, plans it once: for the doctor search
// and its next free slots, parsing and planning cost as much as running
// them. Transactions and writes go to the plain driver.
//
// Query texts must not carry values (they are arguments), or every value
// would take a place in the cache; the cache's bound keeps a text that
// does from growing it without end. A statement whose client has gone
// is not started, and one already running is let finish briefly
// (CancelGrace) rather than cancelled at once. A statement pooler in transaction
// mode (PgBouncer before 1.21) does not keep prepared statements: run
// without one, or in session mode.
type Prepared struct {
	*entsql.Driver
	db    *sql.DB
	max   int
	grace time.Duration

	mu    sync.Mutex
	lru   *list.List // of *prepared, most recently used first
	bySQL map[string]*list.Element
}

type prepared struct {
	query   string
	stmt    *sql.Stmt
	users   int  // callers between acquire and their query's start
	evicted bool // closed when its last user is done
}

// NewPrepared wraps db; it keeps at most max statements prepared.
func NewPrepared(db *sql.DB, max int) *Prepared {
	return &Prepared{Driver: entsql.OpenDB(dialect.Postgres, db), db: db, max: max, grace: CancelGrace,
		lru: list.New(), bySQL: map[string]*list.Element{}}
}

// Query runs query as a prepared statement.
func (p *Prepared) Query(ctx context.Context, query string, args, v any) error {
	vr, ok := v.(*entsql.Rows)
	if !ok {
		return fmt.Errorf("db: invalid type %T, want *sql.Rows", v)
	}
	argv, ok := args.([]any)
	if !ok {
		return fmt.Errorf("db: invalid type %T, want []any for args", args)
	}
	rows, err := p.QueryContext(ctx, query, argv...)
	if err != nil {
		return err
	}
	*vr = entsql.Rows{ColumnScanner: &typedRows{Rows: rows}}
	return nil
}

// typedRows keeps the column types database/sql describes: Ent asks for
// them again at every row for each column that is no field of the entity
// (the search's distance and next free slot), and database/sql builds the
// whole list anew each time, a tenth of what a search allocated.
type typedRows struct {
	*sql.Rows
	types []*sql.ColumnType
}

func (r *typedRows) ColumnTypes() ([]*sql.ColumnType, error) {
	if r.types == nil {
		types, err := r.Rows.ColumnTypes()
		if err != nil {
			return nil, err
		}
		r.types = types
	}
	return r.types, nil
}

func (r *typedRows) NextResultSet() bool {
	r.types = nil
	return r.Rows.NextResultSet()
}

// QueryContext runs query as a prepared statement (Ent's client calls it
// for hand-built statements). database/sql closes an evicted statement
// only once the rows read from it are closed, so the rows outlive the
// statement's place in the cache.
func (p *Prepared) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := ctx.Err(); err != nil {
		// The client has gone: no statement for nobody.
		return nil, err
	}
	ctx = p.patient(ctx)
	ps, err := p.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	defer p.release(ps)
	return ps.stmt.QueryContext(ctx, args...)
}

// CancelGrace is how long a statement already running goes on after its
// request ended before it is cancelled.
//
// lib/pq cancels a statement by closing its connection, and the next
// backend PostgreSQL starts for the pool loads PostGIS again (tens of
// milliseconds of CPU): under overload, cancelling every search whose
// client gave up replaced connections faster than they did work (20 to
// 44 backends in 15 s). A search's statements take a millisecond or two,
// so they are let finish on their connection; a statement that runs on
// past the grace is cancelled.
const CancelGrace = 100 * time.Millisecond

// patient is ctx with its values, cancelled CancelGrace after ctx is.
func (p *Prepared) patient(ctx context.Context) context.Context {
	detached, cancel := context.WithCancel(context.WithoutCancel(ctx))
	context.AfterFunc(ctx, func() { time.AfterFunc(p.grace, cancel) })
	return detached
}

// acquire returns the prepared statement of query, preparing it when it
// is not cached, and counts the caller as one of its users.
func (p *Prepared) acquire(ctx context.Context, query string) (*prepared, error) {
	p.mu.Lock()
	if e, ok := p.bySQL[query]; ok {
		p.lru.MoveToFront(e)
		ps := e.Value.(*prepared)
		ps.users++
		p.mu.Unlock()
		return ps, nil
	}
	p.mu.Unlock()
	stmt, err := p.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.bySQL[query]; ok {
		// Another caller prepared it meanwhile: keep theirs. Never close
		// a statement in line (see closeStmt).
		go closeStmt(stmt)
		p.lru.MoveToFront(e)
		ps := e.Value.(*prepared)
		ps.users++
		return ps, nil
	}
	ps := &prepared{query: query, stmt: stmt, users: 1}
	p.bySQL[query] = p.lru.PushFront(ps)
	for p.lru.Len() > p.max {
		old := p.lru.Back()
		p.lru.Remove(old)
		o := old.Value.(*prepared)
		delete(p.bySQL, o.query)
		o.evicted = true
		if o.users == 0 {
			go closeStmt(o.stmt)
		}
	}
	return ps, nil
}

func (p *Prepared) release(ps *prepared) {
	p.mu.Lock()
	ps.users--
	closeIt := ps.evicted && ps.users == 0
	p.mu.Unlock()
	if closeIt {
		go closeStmt(ps.stmt)
	}
}

// closeStmt closes a statement on a goroutine of its own. database/sql's
// Stmt.Close waits for every connection the statement was prepared on to
// be free, and a connection stays busy for as long as its statement runs:
// one waiting on a lock held by a transaction whose next query is the
// caller's. Closed in line under p.mu, that wait stalled every query of
// the server until the requests timed out (slot writes queued on one
// doctor's lock while the holder's response read through this cache).
func closeStmt(s *sql.Stmt) { _ = s.Close() }

// Len is how many statements are kept prepared.
func (p *Prepared) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lru.Len()
}
