package browser

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/healthmed/healthmed/internal/app"
	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/config"
)

// clock is a wall clock the test moves forward, so that a consultation
// can be held and completed (which issues its invoice).
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

type download struct {
	Status                             int
	Type, Disposition, RequestID, Head string
	Size                               int
}

// A web app on another origin, against a production server that lists
// it: it signs in, searches, uploads a record file, downloads it, the
// receipt of a completed consultation, a booking's calendar file and the
// LGPD export, and receives a live event. The same page on an origin the
// server does not list can read nothing.
func TestWebAppOnAnotherOrigin(t *testing.T) {
	tb := newTab(t)
	pages := httptest.NewServer(http.FileServer(http.Dir("testdata")))
	t.Cleanup(pages.Close)
	port := pages.URL[strings.LastIndexByte(pages.URL, ':')+1:]
	appOrigin := "http://localhost:" + port

	clk := &clock{now: time.Now().UTC().Truncate(time.Hour)}
	env := apptest.New(t, apptest.AtPublicURL(t), apptest.Unthrottled(), apptest.WithApp(app.WithClock(clk.Now)),
		apptest.WithConfig(func(c *config.Config) { c.AllowedOrigins = []string{appOrigin} }))
	doc, _ := env.Doctor("Dra. Outra Origem", "Cardiology", -23.56, -46.64)
	pat, _, email := env.Patient("Paciente Web")

	// A consultation held and completed: its invoice has a receipt.
	slot := func(at time.Time) string {
		var out struct{ CreateSlots []struct{ ID string } }
		env.Do(doc, `mutation($in: [SlotInput!]!) { createSlots(input: $in) { id } }`, map[string]any{"in": []any{
			map[string]any{"startsAt": at.Format(time.RFC3339), "endsAt": at.Add(50 * time.Minute).Format(time.RFC3339)}}}).Decode(t, &out)
		return out.CreateSlots[0].ID
	}
	book := func(slot string) string {
		var out struct{ BookAppointment struct{ ID string } }
		env.Do(pat, `mutation($s: ID!) { bookAppointment(slotId: $s) { id } }`, map[string]any{"s": slot}).Decode(t, &out)
		return out.BookAppointment.ID
	}
	accept := func(id string) {
		if r := env.Do(doc, `mutation($id: ID!) { acceptAppointment(id: $id) { id } }`, map[string]any{"id": id}); r.Code() != "" {
			t.Fatalf("accept: %+v", r.Errors)
		}
	}
	held := book(slot(clk.Now().Add(time.Hour)))
	accept(held)
	clk.Advance(2 * time.Hour)
	if r := env.Do(doc, `mutation($id: ID!) { completeAppointment(id: $id) { id } }`, map[string]any{"id": held}); r.Code() != "" {
		t.Fatalf("complete: %+v", r.Errors)
	}
	requested := book(slot(clk.Now().Add(26 * time.Hour)))

	tb.run(chromedp.Navigate(appOrigin + "/app.html?api=" + env.Server.URL))
	tb.waitFor("the app's script", `window.app`, 10*time.Second)

	if !eval[bool](tb, `app.login(`+jsString(email)+`, "correct horse battery")`) {
		t.Fatal("sign-in")
	}
	if names := eval[[]string](tb, `app.searchDoctors("Cardiology")`); len(names) != 1 || names[0] != "Dra. Outra Origem" {
		t.Fatalf("search: %v", names)
	}
	file := eval[struct{ ID, Title, DownloadURL string }](tb, `app.upload("hemograma.txt", "hemograma: normal")`)
	if !strings.HasPrefix(file.DownloadURL, env.Server.URL+"/files/") {
		t.Fatalf("uploaded: %+v", file)
	}
	got := eval[download](tb, `app.download(`+jsString(file.DownloadURL)+`)`)
	if got.Status != 200 || got.Head != "hemograma: norma" || got.Disposition == "" {
		t.Fatalf("record file: %+v", got)
	}
	invoices := eval[[]struct{ ID, Number, ReceiptURL string }](tb, `app.invoices()`)
	if len(invoices) != 1 {
		t.Fatalf("invoices: %+v", invoices)
	}
	got = eval[download](tb, `app.download(`+jsString(invoices[0].ReceiptURL)+`)`)
	if got.Status != 200 || got.Type != "application/pdf" || !strings.HasPrefix(got.Head, "%PDF") ||
		!strings.Contains(got.Disposition, ".pdf") || got.RequestID == "" {
		t.Fatalf("receipt: %+v", got)
	}
	got = eval[download](tb, `app.download(`+jsString(env.Server.URL+"/me/export")+`)`)
	if got.Status != 200 || !strings.HasPrefix(got.Head, "PK") || !strings.Contains(got.Disposition, ".zip") {
		t.Fatalf("export: %+v", got)
	}

	eval[bool](tb, `app.subscribe("subscription { appointmentUpdated { id status } }")`)
	time.Sleep(500 * time.Millisecond)
	accept(requested)
	tb.waitFor("the live event", `app.events.some((e) => e.data && e.data.appointmentUpdated.id === `+jsString(requested)+
		` && e.data.appointmentUpdated.status === 'ACCEPTED')`, 20*time.Second)

	host := strings.TrimPrefix(env.Server.URL, "http://")
	if off := tb.offHost(host, "localhost:"+port); len(off) > 0 {
		t.Fatalf("the app requested other hosts: %v", off)
	}

	// The same page served from an origin the server does not list.
	tb.run(chromedp.Navigate(strings.Replace(pages.URL, "localhost", "127.0.0.1", 1) + "/app.html?api=" + env.Server.URL))
	tb.waitFor("the app's script", `window.app`, 10*time.Second)
	refused := eval[string](tb, `app.login(`+jsString(email)+`, "correct horse battery").then(() => "signed in", (e) => e.message)`)
	if refused != "Failed to fetch" {
		t.Fatalf("from an unlisted origin: %q", refused)
	}
}
