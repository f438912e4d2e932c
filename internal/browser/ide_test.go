package browser

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/config"
)

// editor is the CodeMirror instance of a GraphiQL pane.
func editor(pane string) string {
	return `document.querySelector(` + jsString(pane+` .CodeMirror`) + `).CodeMirror`
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// The IDE with no network but loopback, on a server that lists other
// origins: it loads, runs a query, and shows a subscription's event.
func TestIDEWorksOffline(t *testing.T) {
	tb := newTab(t)
	env := apptest.New(t, apptest.AtPublicURL(t), apptest.Unthrottled(), apptest.WithConfig(func(c *config.Config) {
		c.Dev = true
		c.AllowedOrigins = []string{"https://app.healthmed.example"}
	}))
	doc, _ := env.Doctor("Dra. Ide", "Cardiology", -23.55, -46.63)
	_, _, email := env.Patient("Paciente Ide")

	tb.run(chromedp.Navigate(env.Server.URL + "/"))
	tb.waitFor("the query editor", `document.querySelector('.graphiql-query-editor .CodeMirror')`, 20*time.Second)

	// A mutation typed in the editor and run with the button: sign in.
	run := func(name, doc string) {
		t.Helper()
		eval[bool](tb, editor(".graphiql-query-editor")+`.setValue(`+jsString(doc)+`), true`)
		// GraphiQL parses the editor's text a moment later (the tab then
		// takes the operation's name); only then does it know that a
		// subscription goes over the websocket.
		tb.waitFor("GraphiQL to read "+name, `document.querySelector('.graphiql-tab-active, .graphiql-tab').textContent.includes(`+jsString(name)+`)`, 5*time.Second)
		tb.run(chromedp.Click(chromedp.CSS(".graphiql-execute-button")))
	}
	response := func() string { return eval[string](tb, editor(".result-window")+`.getValue()`) }
	run("SignIn", `mutation SignIn { loginPatient(login: "`+email+`", password: "correct horse battery") { token } }`)
	tb.waitFor("the sign-in's answer", editor(".result-window")+`.getValue().includes('"token"')`, 20*time.Second)
	var login struct {
		Data struct{ LoginPatient struct{ Token string } }
	}
	if err := json.Unmarshal([]byte(response()), &login); err != nil || login.Data.LoginPatient.Token == "" {
		tb.t.Fatalf("sign-in response %q: %v", response(), err)
	}

	// The token in the Headers pane; a subscription opens the socket.
	// (The page opens with the Headers pane shown.)
	const headers = ".graphiql-editor-tool .graphiql-editor:not(.hidden)"
	tb.waitFor("the headers editor", `document.querySelector('`+headers+` .CodeMirror')`, 5*time.Second)
	eval[bool](tb, editor(headers)+`.setValue(`+jsString(`{"Authorization": "Bearer `+login.Data.LoginPatient.Token+`"}`)+`), true`)
	run("Watch", `subscription Watch { appointmentUpdated { id status } }`)
	time.Sleep(time.Second)

	appt := requestedAppointment(t, env, doc, login.Data.LoginPatient.Token)
	if r := env.Do(doc, `mutation($id: ID!) { acceptAppointment(id: $id) { id } }`, map[string]any{"id": appt}); r.Code() != "" {
		t.Fatalf("accept: %+v", r.Errors)
	}
	tb.waitFor("the event in the response pane", editor(".result-window")+`.getValue().includes('ACCEPTED')`, 20*time.Second)
	if got := response(); !strings.Contains(got, appt) || strings.Contains(got, "isTrusted") {
		t.Fatalf("response pane: %s", got)
	}

	host := strings.TrimPrefix(env.Server.URL, "http://")
	if off := tb.offHost(host); len(off) > 0 {
		t.Fatalf("the IDE requested other hosts: %v", off)
	}
	if v := tb.cspViolations(); len(v) > 0 {
		t.Fatalf("the page's own policy refused: %v", v)
	}
	if u, _ := url.Parse(env.Config.PublicURL); u.Host != host {
		t.Fatalf("public URL %s, server %s", env.Config.PublicURL, env.Server.URL)
	}
}

// requestedAppointment opens a slot tomorrow and books it as the patient.
func requestedAppointment(t *testing.T, env *apptest.Env, doctor, patient string) string {
	t.Helper()
	start := time.Now().Add(26 * time.Hour).Truncate(time.Hour)
	var slots struct{ CreateSlots []struct{ ID string } }
	env.Do(doctor, `mutation($in: [SlotInput!]!) { createSlots(input: $in) { id } }`, map[string]any{"in": []any{
		map[string]any{"startsAt": start.Format(time.RFC3339), "endsAt": start.Add(30 * time.Minute).Format(time.RFC3339)}}}).Decode(t, &slots)
	var booked struct{ BookAppointment struct{ ID string } }
	env.Do(patient, `mutation($s: ID!) { bookAppointment(slotId: $s) { id } }`, map[string]any{"s": slots.CreateSlots[0].ID}).Decode(t, &booked)
	return booked.BookAppointment.ID
}
