package graph_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/config"
)

// trickle sends a request's headers at once and its body a byte at a
// time, every interval, and returns the status and body of the answer
// with how long it took, or the error that ended the connection.
func trickle(t *testing.T, addr, contentType, body string, interval time.Duration) (int, string, time.Duration, error) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", contentType, len(body))
	stopped := make(chan struct{})
	go func() {
		for i := 0; i < len(body); i++ {
			select {
			case <-stopped:
				return
			case <-time.After(interval):
			}
			if _, err := conn.Write([]byte{body[i]}); err != nil {
				return
			}
		}
	}()
	defer close(stopped)
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, "", time.Since(start), err
	}
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(raw), time.Since(start), nil
}

// TestSlowBodiesAreCutOff: a body trickled past the read timeout is
// refused with a code, JSON and uploads alike, and the socket let go.
func TestSlowBodiesAreCutOff(t *testing.T) {
	env := apptest.New(t, apptest.WithConfig(func(c *config.Config) {
		c.BodyReadTimeout, c.UploadReadTimeout = time.Second, 2*time.Second
	}))
	addr := strings.TrimPrefix(env.Server.URL, "http://")
	body := `{"query":"{ viewer { __typename } }"}` + strings.Repeat(" ", 200)
	upload := "--b\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n" + body + "\r\n--b--\r\n"
	for _, c := range []struct {
		name, contentType, body string
		cut                     time.Duration
	}{
		{"JSON", "application/json", body, time.Second},
		{"multipart", "multipart/form-data; boundary=b", upload, 2 * time.Second},
	} {
		status, answer, took, err := trickle(t, addr, c.contentType, c.body, 100*time.Millisecond)
		t.Logf("%s: %d %s after %v (%v)", c.name, status, answer, took, err)
		if err != nil {
			t.Fatalf("%s: no answer: %v", c.name, err)
		}
		var out apptest.Response
		_ = json.Unmarshal([]byte(answer), &out)
		if status != http.StatusRequestTimeout || out.Code() != "BAD_USER_INPUT" || out.Ext("reason") != "BODY_TIMEOUT" || out.Ext("requestId") == "" {
			t.Fatalf("%s: status %d %s", c.name, status, answer)
		}
		if took < c.cut || took > c.cut+3*time.Second {
			t.Fatalf("%s: cut off after %v, want about %v", c.name, took, c.cut)
		}
	}
	// A body that arrives in time, if slowly, is answered; and a request
	// that outlives the body timeout after its body has arrived is not
	// cut short.
	if status, answer, _, err := trickle(t, addr, "application/json", `{"query":"{ viewer { __typename } }"}`, 10*time.Millisecond); err != nil || status != 200 {
		t.Fatalf("slow but in time: %d %s %v", status, answer, err)
	}
	checkNoPanic(t, env)
}
