package notify_test

import (
	"sync/atomic"
	"testing"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/notification"
	"github.com/healthmed/healthmed/internal/reaction"
	"github.com/healthmed/healthmed/internal/testdb"
	"github.com/healthmed/healthmed/internal/validate"
)

type wakes struct{ n atomic.Int32 }

func (w *wakes) Wake() { w.n.Add(1) }

// TestAnyWriterOfANotificationWakesTheWorker: a notification written
// straight through Ent, by no service of ours, wakes the worker once its
// transaction commits, never before and never after a rollback.
func TestAnyWriterOfANotificationWakesTheWorker(t *testing.T) {
	db := testdb.New(t)
	w := &wakes{}
	c := ent.NewClient(ent.Driver(entsql.OpenDB("postgres", db.SQL)), ent.Reactions(&reaction.Deps{Outbox: w}))
	pid := c.Patient.Create().SetName("Pat Wake").SetEmail("wake@example.test").
		SetCpf(validate.CompleteCPF("123456789")).SetPasswordHash("!").SaveX(sys()).ID
	write := func(tx *ent.Tx) error {
		return tx.Notification.Create().SetKind(notification.KindREGISTRATION_ATTEMPT).SetPatientID(pid).Exec(sys())
	}
	for _, tc := range []struct {
		name string
		end  func(*ent.Tx) error
		want int32
	}{{"commit", (*ent.Tx).Commit, 1}, {"rollback", (*ent.Tx).Rollback, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			w.n.Store(0)
			tx, err := c.Tx(sys())
			if err != nil {
				t.Fatal(err)
			}
			if err := write(tx); err != nil {
				t.Fatal(err)
			}
			if n := w.n.Load(); n != 0 {
				t.Fatalf("woken %d times before the transaction ended", n)
			}
			if err := tc.end(tx); err != nil {
				t.Fatal(err)
			}
			if n := w.n.Load(); n != tc.want {
				t.Fatalf("woken %d times, want %d", n, tc.want)
			}
		})
	}
	w.n.Store(0)
	// Outside a transaction the write is durable at once.
	c.Notification.Create().SetKind(notification.KindREGISTRATION_ATTEMPT).SetPatientID(pid).ExecX(sys())
	if n := w.n.Load(); n != 1 {
		t.Fatalf("a write of its own woke the worker %d times, want 1", n)
	}
}
