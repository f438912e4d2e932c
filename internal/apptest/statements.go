package apptest

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// statements records the SQL the server's Ent client sends, so a test can
// prove that a refused request never reached the database.
type statements struct {
	mu  sync.Mutex
	log []string
}

func (s *statements) record(_ context.Context, v ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, fmt.Sprint(v...))
}

// StatementsDuring runs f and returns the statements sent meanwhile that
// mention table; the event reader's background polling is left out by
// naming a table it does not read. An empty table keeps every statement.
func (e *Env) StatementsDuring(table string, f func()) []string {
	e.stmts.mu.Lock()
	start := len(e.stmts.log)
	e.stmts.mu.Unlock()
	f()
	e.stmts.mu.Lock()
	defer e.stmts.mu.Unlock()
	var out []string
	for _, s := range e.stmts.log[start:] {
		if table == "" || strings.Contains(s, `"`+table+`"`) {
			out = append(out, s)
		}
	}
	return out
}
