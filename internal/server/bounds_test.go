package server

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestSlowHeadersAreCutOff: a client trickling its headers is dropped
// once the header timeout has passed.
func TestSlowHeadersAreCutOff(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := HTTPServer("", http.NotFoundHandler(), 300*time.Millisecond)
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	go func() {
		fmt.Fprint(conn, "GET / HTTP/1.1\r\n")
		for i := 0; i < 100; i++ {
			time.Sleep(50 * time.Millisecond)
			if _, err := fmt.Fprintf(conn, "X-%d: y\r\n", i); err != nil {
				return
			}
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = io.ReadAll(conn)
	if took := time.Since(start); err != nil || took > 2*time.Second {
		t.Fatalf("connection held %v (%v)", took, err)
	}
}

// TestBodyDeadlineLiftedOnceTheBodyIsIn: a request that runs past the
// body timeout after its body has arrived keeps its context.
func TestBodyDeadlineLiftedOnceTheBodyIsIn(t *testing.T) {
	h := bounded(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			t.Errorf("read: %v", err)
		}
		time.Sleep(600 * time.Millisecond)
		if err := r.Context().Err(); err != nil {
			t.Errorf("context ended after the body arrived: %v", err)
		}
		_, _ = io.WriteString(w, "ok")
	}), requestBounds{maxBody: 1 << 10, timeout: 5 * time.Second, body: 200 * time.Millisecond, upload: time.Second})
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := http.Post(srv.URL, "application/json", strings.NewReader(`{"query":"{ x }"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(bufio.NewReader(res.Body))
	if res.StatusCode != 200 || string(b) != "ok" {
		t.Fatalf("%d %s", res.StatusCode, b)
	}
}
