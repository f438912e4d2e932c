package graph_test

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/fuzzbound"
)

// FuzzWebsocketMessages sends arbitrary frames to the whole server over a
// real socket, before or after a valid connection_init: whatever they
// hold, the server answers or closes the socket, logs no panic and no
// error of its own, buffers no frame over the read limit, and leaves no
// goroutine behind once the socket is gone.
//
// mode: bit 0 picks the sub-protocol, bit 1 signs in first, bit 2 sends
// binary frames. data: the frames, separated by NUL bytes.
func FuzzWebsocketMessages(f *testing.F) {
	env := apptest.New(f)
	doc, _ := env.Doctor("Dr. Fuzz", "Cardiology", -23.5, -46.6)
	for _, seed := range []struct {
		mode byte
		data string
	}{
		{0, `{"type":"connection_init","payload":{"authorization":"Bearer x.y.z"}}`},
		{1, `{"type":"connection_init","payload":[1]}`},
		{0, `{"type":"subscribe","id":"1","payload":{"query":"subscription { agendaUpdated { id } }"}}`},
		{2, `{"type":"subscribe","id":"1","payload":{"query":"subscription { agendaUpdated { id } }"}}` + "\x00" +
			`{"type":"complete","id":"1"}`},
		{3, `{"type":"start","id":"1","payload":{"query":"subscription($a: ID) { agendaUpdated(after: $a) { id } }","variables":{"a":"nope"}}}` +
			"\x00" + `{"type":"stop","id":"1"}` + "\x00" + `{"type":"connection_terminate"}`},
		{2, `{"type":"subscribe","id":"m","payload":{"query":"mutation { markAllNotificationsRead }"}}`},
		{2, `{"type":"subscribe","id":"1","payload":{"query":"subscription { agendaUpdated { id } }"}}` + "\x00" +
			`{"type":"subscribe","id":"1","payload":{"query":"subscription { agendaUpdated { id } }"}}`},
		{2, `{"type":"subscribe","id":"1","payload":{"query":"subscription { agendaUpdated { id ` + strings.Repeat("id ", 5000) + `} }"}}`},
		{2, `{"type":"subscribe","id":"1","payload":{"query":"{` + strings.Repeat("__typename ", 30000) + `}"}}`},
		{2, `{"type":"ping","payload":{"a":1}}` + "\x00" + `{"type":"pong"}` + "\x00" + `{"type":"next","id":"x"}`},
		{6, "\xff\xfe\x00\x00{}\x00[]\x00null\x00\"x\""},
		{0, `{"type":"connection_init"}` + "\x00" + `{"type":"connection_init"}`},
		{1, `{"type":"connection_init","payload":{"authorization":"Bearer ` + strings.Repeat("a", 70000) + `"}}`},
		{2, `{"type":"subscribe","id":"` + strings.Repeat("\u00e9", 100) + `","payload":{"query":"subscription { agendaUpdated { id } }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"00"}}}}`},
	} {
		f.Add(seed.mode, []byte(seed.data))
	}
	protos := []string{apptest.TransportWS, apptest.LegacyWS}
	f.Fuzz(func(t *testing.T, mode byte, data []byte) {
		before := runtime.NumGoroutine()
		logged := len(env.LogText())
		proto := protos[mode&1]
		frames := bytes.Split(data, []byte{0})
		if len(frames) > 32 {
			frames = frames[:32]
		}
		var w *apptest.WS
		var code int
		var err error
		tooBig := false
		// Each frame is a request, and so are the upgrade and its init;
		// the test's own client and the server's idle jobs count too.
		fuzzbound.WithinProcess(t, "a socket's frames", len(frames)+2, func() {
			w, code, err = fuzzConversation(t, env, proto, mode, doc, frames, &tooBig)
		})
		if tooBig && err == nil && code != websocket.CloseMessageTooBig {
			t.Fatalf("a frame over the read limit closed the socket with %d", code)
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			t.Fatalf("unexpected close: %v", err)
		}
		w.Close()
		for deadline := time.Now().Add(3 * time.Second); runtime.NumGoroutine() > before+2; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d goroutines before the socket, %d after it closed", before, runtime.NumGoroutine())
			}
		}
		if out := env.LogText()[logged:]; strings.Contains(out, "panic") || strings.Contains(out, `"level":"ERROR"`) {
			t.Fatalf("server logged:\n%s", out)
		}
	})
}

// fuzzConversation opens a socket (signed in as doctor when mode's bit 1 is set),
// sends frames and waits until the server closes it or goes quiet.
func fuzzConversation(t *testing.T, env *apptest.Env, proto string, mode byte, doctor string, frames [][]byte, tooBig *bool) (*apptest.WS, int, error) {
	t.Helper()
	var w *apptest.WS
	if mode&2 != 0 {
		w = env.Connect(t, proto, doctor)
	} else {
		var err error
		if w, err = env.DialBare(t, proto); err != nil {
			t.Fatal(err)
		}
	}
	typ := websocket.TextMessage
	if mode&4 != 0 {
		typ = websocket.BinaryMessage
	}
	for _, fr := range frames {
		*tooBig = *tooBig || len(fr) > 64<<10
		if err := w.SendFrame(typ, fr); err != nil {
			break // the server closed the socket already
		}
	}
	// Whatever comes back, until the server closes or goes quiet.
	_, code, err := w.Closed(300 * time.Millisecond)
	return w, code, err
}
