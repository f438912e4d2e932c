package graph_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/config"
)

const apptMeetingOp = `query($id: ID!) { node(id: $id) { ... on Appointment { meeting { url } } } }`

func TestEachPartyGetsTheirOwnSignedLinkAndCalendar(t *testing.T) {
	env := apptest.New(t, apptest.WithConfig(func(c *config.Config) {
		c.JitsiURL, c.JitsiAppID, c.JitsiAppSecret = "https://meet.clinic.example", "healthmed", "a-long-shared-jitsi-secret-0123456789"
	}))
	doc, _ := env.Doctor("Dr. Link", "Cardiology", -23.5, -46.6)
	pat, _, _ := env.Patient("Rosa")
	stranger, _, _ := env.Patient("Stranger")
	slot := createSlot(t, env, doc, tomorrowAt(16), 60)
	id := book(t, env, pat, slot)

	// Before acceptance there is no meeting, but there is a calendar entry.
	ics := fetchICS(t, env, pat, id, 200)
	if !strings.Contains(ics, "STATUS:TENTATIVE") || strings.Contains(ics, "URL:") {
		t.Fatalf("requested appointment calendar:\n%s", ics)
	}
	env.Do(doc, acceptOp, map[string]any{"id": id}).Decode(t, &struct{}{})

	links := map[string]string{}
	for who, tok := range map[string]string{"doctor": doc, "patient": pat} {
		var out struct {
			Node struct{ Meeting struct{ URL string } }
		}
		env.Do(tok, apptMeetingOp, map[string]any{"id": id}).Decode(t, &out)
		links[who] = out.Node.Meeting.URL
		u, err := url.Parse(out.Node.Meeting.URL)
		if err != nil || u.Host != "meet.clinic.example" || u.Query().Get("jwt") == "" {
			t.Fatalf("%s link %q", who, out.Node.Meeting.URL)
		}
	}
	if links["doctor"] == links["patient"] {
		t.Fatal("doctor and patient share one link: the moderator token would leak")
	}
	ics = fetchICS(t, env, pat, id, 200)
	for _, want := range []string{"BEGIN:VCALENDAR", "STATUS:CONFIRMED", "DTSTART:" + tomorrowAt(16).Format("20060102T150405Z"), "Dr. Link"} {
		if !strings.Contains(ics, want) {
			t.Fatalf("calendar lacks %q:\n%s", want, ics)
		}
	}
	if !strings.Contains(strings.ReplaceAll(ics, "\r\n ", ""), links["patient"]) {
		t.Fatalf("calendar lacks the patient's own link:\n%s", ics)
	}
	fetchICS(t, env, stranger, id, 404)
	fetchICS(t, env, "", id, 401)
}

func fetchICS(t *testing.T, env *apptest.Env, token, id string, want int) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, env.Server.URL+"/appointments/"+id+"/calendar.ics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := env.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("calendar status %d, want %d: %s", res.StatusCode, want, body)
	}
	if want == 200 && !strings.HasPrefix(res.Header.Get("Content-Type"), "text/calendar") {
		t.Fatalf("content type %q", res.Header.Get("Content-Type"))
	}
	return string(body)
}
