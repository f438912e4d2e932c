package live_test

import (
	"context"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/live"
)

// A transaction that is committing events holds back the events numbered
// after its own (see horizon). When it ends, the held events must go out
// promptly, not at the next once-a-second poll. Committing takes
// milliseconds; here a transaction fires the numbering trigger early and
// stays open, for less than the bound (DefaultMaxHold).
//
// The hub's once-a-second poll is taken out of the way (an hour), so that
// only the hub's own retry can deliver the event: the test then holds on
// a loaded machine, where a bound on the delay in milliseconds did not.
func TestHeldBackEventLeavesSoonAfterTheOlderTransactionEnds(t *testing.T) {
	t.Cleanup(live.SetPollEvery(time.Hour))
	env := apptest.New(t)
	doc, _ := env.Doctor("Dr. Held", "Cardiology", -23.5, -46.6)
	w := env.Connect(t, apptest.TransportWS, doc)
	w.Subscribe("a", `subscription { agendaUpdated { id kind } }`, nil)
	time.Sleep(100 * time.Millisecond) // let the subscription register

	for i, hold := range []time.Duration{350 * time.Millisecond, 600 * time.Millisecond, 850 * time.Millisecond} {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		older, err := env.DB.SQL.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			`INSERT INTO events (created_at, kind, doctor_id) VALUES (now(), 'SLOT_CREATED', 0)`,
			`SET CONSTRAINTS ALL IMMEDIATE`,
		} {
			if _, err := older.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now().UTC().AddDate(0, 0, 3).Truncate(time.Hour).Add(time.Duration(i) * time.Hour)
		var out struct{ CreateSlots []struct{ ID string } }
		env.Do(doc, `mutation($in: [SlotInput!]!) { createSlots(input: $in) { id } }`, map[string]any{"in": []any{map[string]any{
			"startsAt": start.Format(time.RFC3339), "endsAt": start.Add(30 * time.Minute).Format(time.RFC3339)}}}).Decode(t, &out)

		type arrival struct {
			at  time.Time
			msg apptest.Message
			err error
		}
		got := make(chan arrival, 1)
		go func() {
			m, err := w.Next(10 * time.Second)
			got <- arrival{time.Now(), m, err}
		}()
		time.Sleep(hold) // the hub reads meanwhile and must hold the event back
		released := time.Now()
		if err := older.Rollback(); err != nil {
			t.Fatal(err)
		}
		cancel()
		a := <-got
		if a.err != nil || a.msg.Type != "next" {
			t.Fatalf("want the event, got %+v %v", a.msg, a.err)
		}
		if a.at.Before(released) {
			t.Fatal("event delivered while an older transaction was running")
		}
		// The hub reads again at most retryMax (100 ms) after the
		// release; without the retry, nothing would read the event
		// before the next poll, an hour away, and Next above fails.
		t.Logf("hold %s: the event arrived %s after the older transaction ended", hold, a.at.Sub(released))
	}
}
