package auth

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"sync"
	"time"
)

// DBLimiter is the LoginLimiter every replica shares: the attempts are
// rows of login_attempts, so N replicas allow what one does, and a restart
// forgets nothing. It follows the same policy as MemoryLimiter, and the
// same tests hold both to it.
//
// Each Allow is one short transaction that takes a transaction-scoped
// advisory lock per account, then per address, always in that order, so
// concurrent attempts at one account are counted one after the other and
// no two transactions wait on each other in a cycle. Keys are SHA-256
// digests: the table never holds an e-mail, a CRM or an address.
type DBLimiter struct {
	db  *sql.DB
	now func() time.Time

	mu        sync.Mutex
	lastSweep time.Time
}

var _ LoginLimiter = (*DBLimiter)(nil)

// NewDBLimiter returns a limiter on db; now is the clock, time.Now when
// nil. Replicas' clocks are assumed to agree within a second or so.
func NewDBLimiter(db *sql.DB, now func() time.Time) *DBLimiter {
	if now == nil {
		now = time.Now
	}
	return &DBLimiter{db: db, now: now}
}

const (
	scopeAccount = "ACCOUNT"
	scopeAddress = "ADDRESS"
)

func digest(scope, key string) string {
	sum := sha256.Sum256([]byte(scope + "\x00" + key))
	return hex.EncodeToString(sum[:])
}

// digests returns the keys an attempt is counted under; addr is empty
// when the client's address is unknown.
func digests(account, clientAddr string) (acc, addr string) {
	if a := addrKey(clientAddr); a != "" {
		addr = digest(scopeAddress, a)
	}
	return digest(scopeAccount, account), addr
}

// Allow implements LoginLimiter.
func (l *DBLimiter) Allow(ctx context.Context, account, clientAddr string) (ok bool, retry time.Duration, err error) {
	now := l.now()
	l.maybeSweep(ctx, now)
	acc, addr := digests(account, clientAddr)
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return false, 0, err
	}
	defer func() {
		if err != nil || !ok {
			_ = tx.Rollback()
		}
	}()
	okAcc, waitAcc, err := l.lockAndCheck(ctx, tx, scopeAccount, acc, now, AccountFailureLimit)
	if err != nil {
		return false, 0, err
	}
	okAddr, waitAddr := true, time.Duration(0)
	if addr != "" {
		if okAddr, waitAddr, err = l.lockAndCheck(ctx, tx, scopeAddress, addr, now, AddressFailureLimit); err != nil {
			return false, 0, err
		}
	}
	if !okAcc || !okAddr {
		return false, max(waitAcc, waitAddr), nil
	}
	if _, err = tx.ExecContext(ctx, `INSERT INTO login_attempts (scope, key, at, pending, addr) VALUES ($1, $2, $3, true, $4)`,
		scopeAccount, acc, now, addr); err != nil {
		return false, 0, err
	}
	if addr != "" {
		if _, err = tx.ExecContext(ctx, `INSERT INTO login_attempts (scope, key, at, pending) VALUES ($1, $2, $3, true)`,
			scopeAddress, addr, now); err != nil {
			return false, 0, err
		}
	}
	if err = tx.Commit(); err != nil {
		return false, 0, err
	}
	return true, 0, nil
}

// lockAndCheck serialises the attempts at one key and reports whether one
// more fits under limit, and if not, how long until it does.
func (l *DBLimiter) lockAndCheck(ctx context.Context, tx *sql.Tx, scope, key string, now time.Time, limit int) (bool, time.Duration, error) {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "login:"+scope+":"+key); err != nil {
		return false, 0, err
	}
	var fails, pending int
	err := tx.QueryRowContext(ctx, `
		SELECT count(*) FILTER (WHERE NOT pending AND at > $3),
		       count(*) FILTER (WHERE pending AND at > $4)
		FROM login_attempts WHERE scope = $1 AND key = $2`,
		scope, key, now.Add(-FailureWindow), now.Add(-pendingTTL)).Scan(&fails, &pending)
	if err != nil {
		return false, 0, err
	}
	if fails+pending < limit {
		return true, 0, nil
	}
	if fails < limit {
		return false, pendingRetry, nil
	}
	// The limit-th most recent failure is the one whose expiry brings the
	// count back under the limit.
	var oldest time.Time
	err = tx.QueryRowContext(ctx, `
		SELECT at FROM login_attempts
		WHERE scope = $1 AND key = $2 AND NOT pending AND at > $3
		ORDER BY at DESC OFFSET $4 LIMIT 1`,
		scope, key, now.Add(-FailureWindow), limit-1).Scan(&oldest)
	if err != nil {
		return false, 0, err
	}
	return false, oldest.Add(FailureWindow).Sub(now), nil
}

// Fail implements LoginLimiter: the attempt in flight becomes a failure
// (one is recorded even if its place had expired).
func (l *DBLimiter) Fail(ctx context.Context, account, clientAddr string) error {
	now := l.now()
	acc, addr := digests(account, clientAddr)
	if err := l.fail(ctx, scopeAccount, acc, addr, now); err != nil {
		return err
	}
	if addr == "" {
		return nil
	}
	return l.fail(ctx, scopeAddress, addr, "", now)
}

func (l *DBLimiter) fail(ctx context.Context, scope, key, addr string, now time.Time) error {
	// One statement: the pending row, preferably the one from this
	// address, turns into a failure, or a failure is added.
	_, err := l.db.ExecContext(ctx, `
		WITH claimed AS (
			UPDATE login_attempts SET pending = false, at = $4
			WHERE id = (
				SELECT id FROM login_attempts
				WHERE scope = $1 AND key = $2 AND pending
				ORDER BY (addr = $3) DESC, at
				LIMIT 1 FOR UPDATE SKIP LOCKED)
			RETURNING id)
		INSERT INTO login_attempts (scope, key, at, pending, addr)
		SELECT $1, $2, $4, false, $3 WHERE NOT EXISTS (SELECT 1 FROM claimed)`,
		scope, key, addr, now)
	return err
}

// Succeed implements LoginLimiter: the account's failures are forgotten,
// and the address's place held by the attempt is released.
func (l *DBLimiter) Succeed(ctx context.Context, account string) error {
	_, err := l.db.ExecContext(ctx, `
		WITH gone AS (
			DELETE FROM login_attempts WHERE scope = $1 AND key = $2
			RETURNING pending, addr, at),
		origin AS (
			SELECT addr FROM gone WHERE pending AND addr <> '' ORDER BY at LIMIT 1)
		DELETE FROM login_attempts
		WHERE id = (
			SELECT id FROM login_attempts
			WHERE scope = $3 AND pending AND key = (SELECT addr FROM origin)
			ORDER BY at LIMIT 1 FOR UPDATE SKIP LOCKED)`,
		scopeAccount, digest(scopeAccount, account), scopeAddress)
	return err
}

// maybeSweep deletes, at most once a minute per replica, the rows that no
// longer count.
func (l *DBLimiter) maybeSweep(ctx context.Context, now time.Time) {
	l.mu.Lock()
	due := now.Sub(l.lastSweep) >= sweepEvery
	if due {
		l.lastSweep = now
	}
	l.mu.Unlock()
	if !due {
		return
	}
	// A failed sweep is not worth failing a login for: the rows only take
	// room until the next one.
	_, _ = l.db.ExecContext(ctx, `DELETE FROM login_attempts WHERE at <= $1 OR (pending AND at <= $2)`,
		now.Add(-FailureWindow), now.Add(-pendingTTL))
}
