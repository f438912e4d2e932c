package app_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/config"
)

const (
	registerDoctorOp  = `mutation($in: RegisterDoctorInput!) { registerDoctor(input: $in) { token refreshToken } }`
	registerPatientOp = `mutation($in: RegisterPatientInput!) { registerPatient(input: $in) { token refreshToken } }`
	loginDoctorOp     = `mutation($crm: String!, $pw: String!) { loginDoctor(crm: $crm, password: $pw) { token } }`
	loginPatientOp    = `mutation($login: String!, $pw: String!) { loginPatient(login: $login, password: $pw) { token } }`
	viewerOp          = `{ viewer { __typename ... on Patient { id name email } } }`
	acceptOp          = `mutation($id: ID!) { acceptAppointment(id: $id) { id meeting { url } } }`
	uploadOp          = `mutation($file: Upload!, $in: RecordFileInput!) { uploadRecordFile(file: $file, input: $in) { id downloadUrl } }`
	apptSubOp         = `subscription($id: ID) { appointmentUpdated(id: $id) { id status } }`
)

func punctuated(cpf string) string { return cpf[0:3] + "." + cpf[3:6] + "." + cpf[6:9] + "-" + cpf[9:] }

func random(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// tokenOf decodes the token of a registration or login.
func tokenOf(t *testing.T, r apptest.Response, field string) string {
	t.Helper()
	var out map[string]struct{ Token string }
	r.Decode(t, &out)
	if out[field].Token == "" {
		t.Fatalf("%s: no token", field)
	}
	return out[field].Token
}

// TestLogsHoldNoSecretsOrPersonalData runs what a day of the service looks
// like, with passwords, CPFs, tokens and a file the test knows, and then
// looks for each of them in everything the server logged.
func TestLogsHoldNoSecretsOrPersonalData(t *testing.T) {
	env := apptest.New(t, apptest.WithConfig(func(c *config.Config) {
		c.JitsiAppID, c.JitsiAppSecret = "healthmed", "a-long-shared-jitsi-secret-0123456789"
	}))
	tag := random(t)
	docPW, patPW, otherPW, wrongPW := "doctor-pw-"+tag, "patient-pw-"+tag, "other-pw-"+tag, "wrong-pw-"+tag
	docEmail, patEmail := "doctor-"+tag+"@example.com", "patient-"+tag+"@example.com"
	cpf, otherCPF, badCPF := apptest.CPF(), apptest.CPF(), apptest.CPF()
	badCPF = badCPF[:10] + string('0'+(badCPF[10]-'0'+1)%10) // wrong check digit
	n, _ := strconv.ParseUint(tag[:5], 16, 64)
	crm := strconv.FormatUint(700000+n%100000, 10) + "/SP"

	secrets := map[string]string{
		"doctor password": docPW, "patient password": patPW, "other password": otherPW, "wrong password": wrongPW,
		"patient CPF": cpf, "patient CPF, punctuated": punctuated(cpf),
		"other CPF": otherCPF, "other CPF, punctuated": punctuated(otherCPF),
		"invalid CPF": badCPF, "invalid CPF, punctuated": punctuated(badCPF),
		"doctor email": docEmail, "patient email": patEmail,
	}
	addToken := func(name, tok string) {
		secrets[name] = tok
		secrets[name+", signature"] = tok[strings.LastIndex(tok, ".")+1:]
	}
	// complete follows the registration's e-mail link and signs in to the
	// account it makes: the link's secret and both sign-ins are secrets.
	complete := func(name string, r apptest.Response, field, email string) string {
		t.Helper()
		var out map[string]struct{ Token, RefreshToken string }
		r.Decode(t, &out)
		addToken(name+" registration token", out[field].Token)
		secrets[name+" registration refresh token"] = out[field].RefreshToken
		secrets[name+" verification link"] = env.LinkSecret(t, email, "VERIFY_EMAIL")
		tok := env.Complete(t, email, out[field].RefreshToken)
		addToken(name+" token", tok)
		return tok
	}

	// Registration and logins: by CRM, by CPF in both forms, and a failure.
	complete("doctor", env.Do("", registerDoctorOp, map[string]any{"in": map[string]any{
		"name": "Dr. Quiet", "email": docEmail, "password": docPW, "crm": crm, "specialty": "Cardiology",
		"priceCents": 25000, "location": map[string]any{"lat": -23.5, "lng": -46.6},
	}}), "registerDoctor", docEmail)
	env.VerifyDoctor(crm)
	complete("patient", env.Do("", registerPatientOp, map[string]any{"in": map[string]any{
		"name": "Patient Quiet", "email": patEmail, "cpf": punctuated(cpf), "password": patPW,
	}}), "registerPatient", patEmail)
	otherEmail := "other-" + tag + "@example.com"
	otherToken := complete("other patient", env.Do("", registerPatientOp, map[string]any{"in": map[string]any{
		"name": "Other Patient", "email": otherEmail, "cpf": otherCPF, "password": otherPW,
	}}), "registerPatient", otherEmail)
	// A taken CPF answers like a new registration.
	if r := env.Do("", registerPatientOp, map[string]any{"in": map[string]any{
		"name": "Again", "email": "again-" + tag + "@example.com", "cpf": cpf, "password": patPW,
	}}); len(r.Errors) != 0 {
		t.Fatalf("CPF registered twice: %+v", r.Errors)
	} else {
		addToken("second registration token", tokenOf(t, r, "registerPatient"))
	}
	if r := env.Do("", registerPatientOp, map[string]any{"in": map[string]any{
		"name": "Typo", "email": "typo-" + tag + "@example.com", "cpf": punctuated(badCPF), "password": patPW,
	}}); r.Code() != "BAD_USER_INPUT" {
		t.Fatalf("invalid CPF accepted: %+v", r.Errors)
	}
	docToken := tokenOf(t, env.Do("", loginDoctorOp, map[string]any{"crm": crm, "pw": docPW}), "loginDoctor")
	addToken("doctor login token", docToken)
	addToken("patient login token (punctuated CPF)", tokenOf(t, env.Do("", loginPatientOp, map[string]any{"login": punctuated(cpf), "pw": patPW}), "loginPatient"))
	patToken := tokenOf(t, env.Do("", loginPatientOp, map[string]any{"login": cpf, "pw": patPW}), "loginPatient")
	addToken("patient login token (bare CPF)", patToken)
	if r := env.Do("", loginPatientOp, map[string]any{"login": cpf, "pw": wrongPW}); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("wrong password: %+v", r.Errors)
	}
	// Credentials written into the document, which then fails validation.
	if r := env.Do("", `mutation { loginPatient(login: "`+cpf+`", password: "`+patPW+`") { nope } }`, nil); r.Code() != "BAD_USER_INPUT" {
		t.Fatalf("invalid document: %+v", r.Errors)
	}

	// Authenticated requests, a forged token, a query in the URL.
	env.Do(patToken, viewerOp, nil).Decode(t, &struct{}{})
	forged := patToken[:len(patToken)-4] + "AAAA"
	if r := env.Do(forged, viewerOp, nil); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("forged token: %d", r.Status)
	}
	secrets["forged token"] = forged
	get, _ := http.NewRequest(http.MethodGet, env.Server.URL+"/graphql?query="+url.QueryEscape(`{ viewer { __typename } }`)+
		"&variables="+url.QueryEscape(`{"cpf":"`+cpf+`"}`), nil)
	get.Header.Set("Authorization", "Bearer "+patToken)
	if res, err := env.Server.Client().Do(get); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET query: %v %v", res.StatusCode, err)
	} else {
		res.Body.Close()
	}

	// Booking, a conflict, acceptance (a signed meeting link), the calendar.
	slot := createSlot(t, env, docToken, 11)
	ws := env.Connect(t, apptest.TransportWS, patToken)
	ws.Subscribe("1", apptSubOp, nil)
	apptest.WaitFor(t, "the subscription", func() bool { return env.App.Hub.Receiving() == 1 })
	var booked struct{ BookAppointment struct{ ID string } }
	env.Do(patToken, bookNamedOp, map[string]any{"slot": slot}).Decode(t, &booked)
	ws.NextData("1", &struct{}{})
	if r := env.Do(otherToken, bookNamedOp, map[string]any{"slot": slot}); r.Ext("reason") != "SLOT_TAKEN" {
		t.Fatalf("second booking: %+v", r.Errors)
	}
	var accepted struct {
		AcceptAppointment struct{ Meeting struct{ URL string } }
	}
	env.Do(docToken, acceptOp, map[string]any{"id": booked.BookAppointment.ID}).Decode(t, &accepted)
	meeting, err := url.Parse(accepted.AcceptAppointment.Meeting.URL)
	if err != nil || meeting.Query().Get("jwt") == "" {
		t.Fatalf("meeting link %q is not signed", accepted.AcceptAppointment.Meeting.URL)
	}
	addToken("meeting token", meeting.Query().Get("jwt"))
	cal, _ := http.NewRequest(http.MethodGet, env.Server.URL+"/appointments/"+booked.BookAppointment.ID+"/calendar.ics", nil)
	cal.Header.Set("Authorization", "Bearer "+patToken)
	if res, err := env.Server.Client().Do(cal); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("calendar: %v %v", res.StatusCode, err)
	} else {
		res.Body.Close()
	}

	// A record file named after the CPF, and its download link.
	content := "Hemograma completo de Patient Quiet: hemoglobina 13.5 g/dL, marker " + tag + "\n"
	secrets["file content"] = "marker " + tag
	var up struct {
		UploadRecordFile struct{ ID, DownloadURL string }
	}
	env.Upload(patToken, uploadOp, map[string]any{"in": map[string]any{"title": "Hemograma", "category": "EXAM"}},
		apptest.File{Name: "hemograma-" + cpf + ".txt", ContentType: "text/plain", Content: []byte(content)}).Decode(t, &up)
	link := up.UploadRecordFile.DownloadURL
	secrets["download link token"] = link[strings.LastIndex(link, "/")+1:]
	res, body, err := env.Download(patToken, link)
	if err != nil || res.StatusCode != http.StatusOK || string(body) != content {
		t.Fatalf("download: %v %v %q", res.StatusCode, err, body)
	}

	// Every request, the websocket's included, has been logged.
	ws.Close()
	apptest.WaitFor(t, "the websocket's log line", func() bool {
		v, _ := scrapeURL(t, env.Server.URL+"/metrics").get("healthmed_http_requests_total", "status", "101")
		return v == 1
	})
	env.Server.Close()

	logs := env.Logs.String()
	// The same configuration line the command writes at start-up.
	var cfgLine bytes.Buffer
	slog.New(slog.NewJSONHandler(&cfgLine, nil)).Info("configuration", "config", env.Config)
	pem := strings.Split(strings.TrimSpace(string(env.Config.SigningKey)), "\n")
	configSecrets := map[string]string{
		"signing key": pem[1], "record KEK": string(env.Config.RecordKEK), "link secret": string(env.Config.LinkSecret),
		"Jitsi secret": string(env.Config.JitsiAppSecret),
	}
	for what, s := range configSecrets {
		secrets[what] = s
	}
	for what, s := range secrets {
		if len(s) < 6 {
			t.Fatalf("%s %q is too short to look for", what, s)
		}
		for _, out := range []struct{ name, text string }{{"the server log", logs}, {"the configuration line", cfgLine.String()}} {
			if i := strings.Index(out.text, s); i >= 0 {
				t.Errorf("%s holds the %s: ...%s...", out.name, what, out.text[max(0, i-120):min(len(out.text), i+len(s)+40)])
			}
		}
	}

	// The log is there to be searched: it has the flow in it.
	for _, want := range []string{`"msg":"login failed"`, `"path":"/files/{token}"`, `"path":"/graphql","status":101`,
		`"path":"/appointments/` + booked.BookAppointment.ID + `/calendar.ics"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %s", want)
		}
	}
	if n := strings.Count(logs, `"msg":"http request"`); n < 20 {
		t.Errorf("%d request lines logged", n)
	}
}
