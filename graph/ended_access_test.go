package graph_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
)

// otherReplicaLag is how long another replica may still take a sign-in
// for live after it ended (identity's liveFor), before it has looked again.
const otherReplicaLag = time.Second

// TestEndedAccessOpensNothing is the access matrix of a token whose
// access has ended: expired, its sign-in signed out, the password changed
// or the account deactivated. Sockets opened with it close with 4403 on
// both replicas and both protocols; afterwards it reads and writes
// nothing over HTTP (at once on the replica that ended it, within a
// second on the other) and opens no socket.
func TestEndedAccessOpensNothing(t *testing.T) {
	a := apptest.New(t, apptest.Unthrottled())
	b := a.Replica(t)
	doc, _ := a.Doctor("Dr. Matrix", "Cardiology", -23.5, -46.6)
	docID := viewerID(t, a, doc)
	ends := []struct {
		name, reason string
		// start returns the token whose access is to end and what ends it.
		start func(t *testing.T, email string) (string, func())
	}{
		{"expired token", "TOKEN_EXPIRED", func(t *testing.T, email string) (string, func()) {
			// Good for three more seconds: the end is its expiry.
			short := mintToken(t, a, signIn(t, a, email).Token, 3*time.Second-15*time.Minute)
			return short, func() {}
		}},
		{"signed out", "TOKEN_INVALID", func(t *testing.T, email string) (string, func()) {
			p := signIn(t, a, email)
			return p.Token, func() { a.Do("", logoutOp, map[string]any{"t": p.RefreshToken}).Decode(t, &struct{}{}) }
		}},
		{"password changed", "TOKEN_INVALID", func(t *testing.T, email string) (string, func()) {
			p, owner := signIn(t, a, email), signIn(t, a, email)
			return p.Token, func() {
				a.Do(owner.Token, changePasswordOp, map[string]any{"cur": "correct horse battery", "new": "another horse battery"}).Decode(t, &struct{}{})
			}
		}},
		{"account deactivated", "TOKEN_INVALID", func(t *testing.T, email string) (string, func()) {
			p, owner := signIn(t, a, email), signIn(t, a, email)
			return p.Token, func() {
				a.Do(owner.Token, deactivateOp, map[string]any{"pw": "correct horse battery"}).Decode(t, &struct{}{})
			}
		}},
	}
	for i, tc := range ends {
		t.Run(tc.name, func(t *testing.T) {
			pat, _, email := a.Patient("Mara " + string(rune('A'+i)))
			fileID := upload(t, a, pat, fileInput("Hemograma", "EXAM"), apptest.File{Name: "h.pdf", Content: pdf(300)})
			token, end := tc.start(t, email)
			link := downloadURL(t, a, token, fileID)

			open := subscribeEverywhere(t, a, b, token, apptUpdatedSub)
			ended := time.Now()
			end()
			if tc.reason == "TOKEN_EXPIRED" {
				ended = ended.Add(3 * time.Second)
				time.Sleep(time.Until(ended))
			}
			noAccess(t, a, "A", token, tc.reason, fileID, docID)
			linkEndsWithTheSignIn(t, a, "A", link, tc.reason == "TOKEN_INVALID")
			for name, w := range open {
				closedForReconnect(t, name, w, closeReauthenticate, 5*time.Second)
			}
			time.Sleep(time.Until(ended.Add(otherReplicaLag)))
			noAccess(t, b, "B", token, tc.reason, fileID, docID)
			linkEndsWithTheSignIn(t, b, "B", link, tc.reason == "TOKEN_INVALID")
			for _, proto := range protocols {
				for name, env := range map[string]*apptest.Env{"A": a, "B": b} {
					refusedAtInit(t, env, name+" "+proto, proto, token)
				}
			}
		})
	}
}

// TestEndedDoctorAccessOpensNothing is the matrix's doctor side: a
// doctor's token whose sign-in was signed out or whose password changed
// reads no patient's shared record over HTTP (at once on the replica that
// ended it, within a second on the other), keeps no socket and opens none,
// on both replicas and both protocols, and its refused reads add nothing
// to the patient's access log.
func TestEndedDoctorAccessOpensNothing(t *testing.T) {
	a := apptest.New(t, apptest.Unthrottled())
	b := a.Replica(t)
	const loginOp = `mutation($crm: String!, $pw: String!) { loginDoctor(crm: $crm, password: $pw) { token refreshToken } }`
	signInDoctor := func(t *testing.T, crm string) pair {
		t.Helper()
		var out struct{ LoginDoctor pair }
		a.Do("", loginOp, map[string]any{"crm": crm, "pw": "correct horse battery"}).Decode(t, &out)
		return out.LoginDoctor
	}
	ends := []struct {
		name string
		// start returns the token whose access is to end and what ends it.
		start func(t *testing.T, crm string) (string, func())
	}{
		{"signed out", func(t *testing.T, crm string) (string, func()) {
			p := signInDoctor(t, crm)
			return p.Token, func() { a.Do("", logoutOp, map[string]any{"t": p.RefreshToken}).Decode(t, &struct{}{}) }
		}},
		{"password changed", func(t *testing.T, crm string) (string, func()) {
			p, owner := signInDoctor(t, crm), signInDoctor(t, crm)
			return p.Token, func() {
				a.Do(owner.Token, changePasswordOp, map[string]any{"cur": "correct horse battery", "new": "another horse battery"}).Decode(t, &struct{}{})
			}
		}},
	}
	for i, tc := range ends {
		t.Run(tc.name, func(t *testing.T) {
			doc, crm := a.Doctor("Dr. Ended "+string(rune('A'+i)), "Cardiology", -23.5, -46.6)
			pat, _, _ := a.Patient("Nina " + string(rune('A'+i)))
			patID := viewerID(t, a, pat)
			fileID := upload(t, a, pat, fileInput("Hemograma", "EXAM"), apptest.File{Name: "h.pdf", Content: pdf(300)})
			shareWith(t, a, pat, map[string]any{"doctorId": viewerID(t, a, doc), "fileIds": []string{fileID}})
			token, end := tc.start(t, crm)
			shared := func(env *apptest.Env) apptest.Response {
				return env.Do(token, sharedOp, map[string]any{"p": patID})
			}
			for name, env := range map[string]*apptest.Env{"A": a, "B": b} {
				if r := shared(env); r.Code() != "" || !strings.Contains(string(r.Data), fileID) {
					t.Fatalf("%s: before the end, sharedRecords answered %s %+v", name, r.Data, r.Errors)
				}
			}
			logged := func() int {
				var out struct{ RecordAccessLog struct{ TotalCount int } }
				a.Do(pat, accessLogOp, map[string]any{"first": 1}).Decode(t, &out)
				return out.RecordAccessLog.TotalCount
			}

			open := subscribeEverywhere(t, a, b, token, agendaSub)
			before := logged()
			ended := time.Now()
			end()
			refusedAsStale(t, "A sharedRecords", shared(a), "TOKEN_INVALID")
			for name, w := range open {
				closedForReconnect(t, name, w, closeReauthenticate, 5*time.Second)
			}
			time.Sleep(time.Until(ended.Add(otherReplicaLag)))
			refusedAsStale(t, "B sharedRecords", shared(b), "TOKEN_INVALID")
			for _, proto := range protocols {
				for name, env := range map[string]*apptest.Env{"A": a, "B": b} {
					refusedAtInit(t, env, name+" "+proto, proto, token)
				}
			}
			if n := logged(); n != before {
				t.Fatalf("the access log went from %d to %d entries with the refused reads", before, n)
			}
		})
	}
}

// noAccess requires every door of a patient's data to stay shut to token
// on env: reads, the download link, a share, an upload, the export.
func noAccess(t *testing.T, env *apptest.Env, replica, token, reason, fileID, docID string) {
	t.Helper()
	shares := func() int {
		n, err := env.DB.Client.RecordShare.Query().Count(sysCtx())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	sharesBefore := shares()
	soon := time.Now().Add(24 * time.Hour).Format(time.RFC3339)
	for _, tc := range []struct {
		name  string
		query string
		vars  map[string]any
	}{
		{"viewer", viewerOp, nil},
		{"recordFiles", myFilesOp, nil},
		{"downloadUrl", fileURLOp, map[string]any{"id": fileID}},
		{"recordAccessLog", accessLogOp, nil},
		{"shareRecords", shareOp, map[string]any{"in": map[string]any{"doctorId": docID, "fileIds": []string{fileID}, "expiresAt": soon}}},
	} {
		r := env.Do(token, tc.query, tc.vars)
		refusedAsStale(t, replica+" "+tc.name, r, reason)
	}
	up := env.Upload(token, uploadOp, fileInput("Receita", "PRESCRIPTION"), apptest.File{Name: "r.pdf", Content: pdf(100)})
	refusedAsStale(t, replica+" upload", up, reason)
	if n := shares(); n != sharesBefore {
		t.Fatalf("%s: %d shares after the refused one, want %d", replica, n, sharesBefore)
	}
	if status, body := export(t, env, token); status != http.StatusUnauthorized || !strings.Contains(string(body), reason) {
		t.Fatalf("%s export: %d %s", replica, status, body)
	}
}

// linkEndsWithTheSignIn follows, with no token as a browser does, a
// download link handed out before the end: it is a credential of its own
// for five minutes, but not beyond its sign-in or account. An access
// token's expiry alone ends neither (its sign-in refreshes it), so that
// link still works.
func linkEndsWithTheSignIn(t *testing.T, env *apptest.Env, replica, link string, ended bool) {
	t.Helper()
	res, body, err := env.Download("", link)
	if err != nil {
		t.Fatalf("%s link: %v", replica, err)
	}
	switch {
	case ended && (res.StatusCode != http.StatusForbidden || !strings.Contains(string(body), `"FORBIDDEN"`)):
		t.Fatalf("%s: a link from an ended sign-in answered %d %s", replica, res.StatusCode, body)
	case !ended && res.StatusCode != http.StatusOK:
		t.Fatalf("%s: a link from a live sign-in answered %d %s", replica, res.StatusCode, body)
	}
}

func refusedAsStale(t *testing.T, name string, r apptest.Response, reason string) {
	t.Helper()
	if r.Code() != "UNAUTHENTICATED" || r.Ext("reason") != reason {
		t.Fatalf("%s: errors %+v, want UNAUTHENTICATED/%s", name, r.Errors, reason)
	}
	if len(r.Data) > 0 && string(r.Data) != "null" {
		t.Fatalf("%s: data %s", name, r.Data)
	}
}

// refusedAtInit requires a socket opened with token to be closed with
// 4403 before anything runs on it.
func refusedAtInit(t *testing.T, env *apptest.Env, name, proto, token string) {
	t.Helper()
	w, _, err := env.DialWS(t, proto, token, "")
	if err != nil {
		t.Fatalf("%s: dial: %v", name, err)
	}
	before, code, err := w.Closed(5 * time.Second)
	if err != nil || code != closeReauthenticate {
		t.Fatalf("%s: close code %d (err %v), want %d", name, code, err, closeReauthenticate)
	}
	for _, m := range before {
		if m.Type != "connection_error" {
			raw, _ := json.Marshal(m)
			t.Fatalf("%s: sent %s before closing", name, raw)
		}
		// The legacy protocol's announcement speaks the contract too.
		var e apptest.Error
		if err := json.Unmarshal(m.Payload, &e); err != nil || e.Code() != "UNAUTHENTICATED" || e.Extensions["requestId"] == nil {
			t.Fatalf("%s: connection_error %s, want UNAUTHENTICATED with a request id", name, m.Payload)
		}
	}
}

// subscribeEverywhere opens a socket for token on both replicas over both
// protocols, each with subscription live, keyed "A graphql-ws" and so on.
func subscribeEverywhere(t *testing.T, a, b *apptest.Env, token, subscription string) map[string]*apptest.WS {
	t.Helper()
	open := map[string]*apptest.WS{}
	for _, proto := range protocols {
		for name, env := range map[string]*apptest.Env{"A": a, "B": b} {
			w := env.Connect(t, proto, token)
			w.SubscribeLive("s", subscription, nil)
			open[name+" "+proto] = w
		}
	}
	return open
}
