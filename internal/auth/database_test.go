package auth_test

import (
	"database/sql"
	"testing"

	"github.com/healthmed/healthmed/internal/auth"
	"github.com/healthmed/healthmed/internal/testdb"
)

func init() { auth.TestDatabase = func(t testing.TB) *sql.DB { return testdb.New(t).SQL } }
