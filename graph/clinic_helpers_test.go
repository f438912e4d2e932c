package graph_test

import (
	"bytes"
	"compress/zlib"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/app"
	"github.com/healthmed/healthmed/internal/apptest"
)

// clinicClock is a wall clock the test moves forward, so a consultation
// booked in the future can be held and completed.
type clinicClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clinicClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clinicClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func newClinicEnv(t *testing.T, opts ...apptest.Option) (*apptest.Env, *clinicClock) {
	t.Helper()
	clock := &clinicClock{now: time.Now().UTC().Truncate(time.Hour)}
	opts = append([]apptest.Option{apptest.Unthrottled(), apptest.WithApp(app.WithClock(clock.Now))}, opts...)
	return apptest.New(t, opts...), clock
}

const (
	clinicBookOp     = `mutation($slot: ID!) { bookAppointment(slotId: $slot) { id status coverage { status detail checkedAt operator } } }`
	clinicCompleteOp = `mutation($id: ID!) { completeAppointment(id: $id) { id status invoice { id number amountCents status issuedBy receiptUrl } } }`
)

// heldAppointment books a slot starting at the clock plus offset, has the
// doctor accept it, and returns its id; the clock is not moved.
func heldAppointment(t *testing.T, env *apptest.Env, clock *clinicClock, doc, pat string, offset time.Duration) string {
	t.Helper()
	slot := createSlot(t, env, doc, clock.Now().Add(offset), 50)
	var b struct{ BookAppointment struct{ ID string } }
	env.Do(pat, clinicBookOp, map[string]any{"slot": slot}).Decode(t, &b)
	if r := env.Do(doc, acceptOp, map[string]any{"id": b.BookAppointment.ID}); r.Code() != "" {
		t.Fatalf("accept: %+v", r.Errors)
	}
	return b.BookAppointment.ID
}

type invoiceOut struct {
	ID, Number, Status, IssuedBy, ReceiptURL string
	AmountCents                              int
	PaidAt, VoidReason                       *string
}

// completedAppointment holds a consultation an hour from the clock, moves
// the clock past it and has the doctor complete it: the invoice comes
// back with the completion.
func completedAppointment(t *testing.T, env *apptest.Env, clock *clinicClock, doc, pat string) (string, invoiceOut) {
	t.Helper()
	id := heldAppointment(t, env, clock, doc, pat, time.Hour)
	clock.Advance(2 * time.Hour)
	var out struct {
		CompleteAppointment struct {
			ID, Status string
			Invoice    *invoiceOut
		}
	}
	env.Do(doc, clinicCompleteOp, map[string]any{"id": id}).Decode(t, &out)
	if out.CompleteAppointment.Status != "COMPLETED" || out.CompleteAppointment.Invoice == nil {
		t.Fatalf("completion: %+v", out.CompleteAppointment)
	}
	return id, *out.CompleteAppointment.Invoice
}

// get fetches a path of the server with an optional bearer token.
func get(t *testing.T, env *apptest.Env, token, path string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, env.Server.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := env.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, body
}

// pdfText returns a PDF's bytes with every Flate stream inflated, where
// the text operators (e.g. "(R$ 250,00) Tj") can be searched.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	var out bytes.Buffer
	rest := pdf
	for {
		i := bytes.Index(rest, []byte("stream"))
		if i < 0 {
			break
		}
		out.Write(rest[:i])
		rest = rest[i+len("stream"):]
		rest = bytes.TrimLeft(rest, "\r\n")
		end := bytes.Index(rest, []byte("endstream"))
		if end < 0 {
			break
		}
		if zr, err := zlib.NewReader(bytes.NewReader(rest[:end])); err == nil {
			b, _ := io.ReadAll(zr)
			out.Write(b)
		} else {
			out.Write(rest[:end])
		}
		rest = rest[end+len("endstream"):]
	}
	out.Write(rest)
	return out.String()
}
