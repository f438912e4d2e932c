// Package smtptest is a small SMTP server for tests: in-process, on the
// loopback interface only, speaking enough of RFC 5321 (EHLO/HELO,
// STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for a real
// client such as net/smtp, and recording every message it accepts.
package smtptest

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one accepted message.
type Message struct {
	From string
	To   []string
	// Data is the message as received (dot-unstuffed, CRLF line ends).
	Data []byte
	// MessageID is the Message-ID header.
	MessageID string
	Subject   string
	// Body is the text body, quoted-printable decoded.
	Body string
	// TLS tells whether the session was encrypted; User is who
	// authenticated, if anyone.
	TLS  bool
	User string
	At   time.Time
}

// Server is a running test SMTP server.
type Server struct {
	// Addr is host:port on 127.0.0.1.
	Addr string
	Host string
	Port int

	ln     net.Listener
	tlsCfg *tls.Config
	// Reject, when set, decides refusals: called for "MAIL", "RCPT" and
	// "DATA" (after the final dot) with how many times that command has
	// been seen so far (1-based), it returns a full reply line such as
	// "451 4.3.0 try later", or "" to accept.
	reject func(cmd string, n int) string

	mu       sync.Mutex
	messages []Message
	counts   map[string]int
	attempts []time.Time
	changed  chan struct{}
	wg       sync.WaitGroup
	conns    map[net.Conn]struct{}
	closed   bool
}

// Option configures a server.
type Option func(*Server)

// WithStartTLS offers STARTTLS with a certificate for 127.0.0.1 and
// "localhost"; ClientTLS returns a client configuration that trusts it.
func WithStartTLS() Option {
	return func(s *Server) { s.tlsCfg = selfSigned() }
}

// WithReject sets the refusal hook (see Server.reject).
func WithReject(f func(cmd string, n int) string) Option {
	return func(s *Server) { s.reject = f }
}

// Start runs a server until the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().(*net.TCPAddr)
	s := &Server{Addr: a.String(), Host: "127.0.0.1", Port: a.Port, ln: ln,
		counts: map[string]int{}, changed: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	for _, o := range opts {
		o(s)
	}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.Close)
	return s
}

// ClientTLS trusts the server's certificate.
func (s *Server) ClientTLS() *tls.Config {
	pool := x509.NewCertPool()
	if s.tlsCfg != nil {
		pool.AddCert(s.tlsCfg.Certificates[0].Leaf)
	}
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// Close stops the server and drops its connections.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.ln.Close()
	s.wg.Wait()
}

// Messages returns the accepted messages, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Attempts returns when each MAIL command arrived: one per delivery
// attempt, accepted or not.
func (s *Server) Attempts() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.attempts...)
}

// ByMessageID counts the accepted messages per Message-ID.
func (s *Server) ByMessageID() map[string]int {
	out := map[string]int{}
	for _, m := range s.Messages() {
		out[m.MessageID]++
	}
	return out
}

// WaitFor waits until at least n messages were accepted and returns
// them, or fails the test after timeout.
func (s *Server) WaitFor(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		got, ch := len(s.messages), s.changed
		s.mu.Unlock()
		if got >= n {
			return s.Messages()
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("smtptest: %d messages after %v, want %d", got, timeout, n)
		}
	}
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.session(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

func (s *Server) count(cmd string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts[cmd]++
	if cmd == "MAIL" {
		s.attempts = append(s.attempts, time.Now())
	}
	return s.counts[cmd]
}

func (s *Server) refusal(cmd string) string {
	n := s.count(cmd)
	if s.reject == nil {
		return ""
	}
	return s.reject(cmd, n)
}

type session struct {
	conn  net.Conn
	r     *textproto.Reader
	w     *bufio.Writer
	tls   bool
	user  string
	from  string
	to    []string
	greet bool
}

func (s *Server) session(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute)) //nolint:errcheck
	ss := &session{conn: c}
	ss.reset(c)
	ss.reply("220 127.0.0.1 smtptest ready")
	for {
		line, err := ss.r.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			ss.greet = true
			ext := []string{"250-127.0.0.1 hello", "250-8BITMIME", "250-AUTH PLAIN"}
			if s.tlsCfg != nil && !ss.tls {
				ext = append(ext, "250-STARTTLS")
			}
			ext = append(ext, "250 SIZE 10485760")
			ss.reply(strings.Join(ext, "\r\n"))
		case "HELO":
			ss.greet = true
			ss.reply("250 127.0.0.1")
		case "STARTTLS":
			if s.tlsCfg == nil || ss.tls {
				ss.reply("502 5.5.1 not offered")
				continue
			}
			ss.reply("220 2.0.0 go ahead")
			tc := tls.Server(c, s.tlsCfg)
			if err := tc.Handshake(); err != nil {
				return
			}
			ss.reset(tc)
			ss.tls, ss.greet, ss.from, ss.to = true, false, "", nil
		case "AUTH":
			mech, ir, _ := strings.Cut(arg, " ")
			if !strings.EqualFold(mech, "PLAIN") || ir == "" {
				ss.reply("504 5.5.4 only PLAIN with an initial response")
				continue
			}
			raw, err := base64.StdEncoding.DecodeString(ir)
			parts := strings.Split(string(raw), "\x00")
			if err != nil || len(parts) != 3 {
				ss.reply("501 5.5.2 malformed")
				continue
			}
			ss.user = parts[1]
			ss.reply("235 2.7.0 ok")
		case "MAIL":
			if !ss.greet {
				ss.reply("503 5.5.1 EHLO first")
				continue
			}
			if r := s.refusal("MAIL"); r != "" {
				ss.reply(r)
				continue
			}
			ss.from, ss.to = addrOf(arg), nil
			ss.reply("250 2.1.0 ok")
		case "RCPT":
			if ss.from == "" {
				ss.reply("503 5.5.1 MAIL first")
				continue
			}
			if r := s.refusal("RCPT"); r != "" {
				ss.reply(r)
				continue
			}
			ss.to = append(ss.to, addrOf(arg))
			ss.reply("250 2.1.5 ok")
		case "DATA":
			if len(ss.to) == 0 {
				ss.reply("503 5.5.1 RCPT first")
				continue
			}
			ss.reply("354 end with <CRLF>.<CRLF>")
			data, err := ss.r.ReadDotBytes()
			if err != nil {
				return
			}
			data = bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))
			if r := s.refusal("DATA"); r != "" {
				ss.reply(r)
				ss.from, ss.to = "", nil
				continue
			}
			s.record(ss, data)
			ss.reply("250 2.0.0 queued")
			ss.from, ss.to = "", nil
		case "RSET":
			ss.from, ss.to = "", nil
			ss.reply("250 2.0.0 ok")
		case "NOOP":
			ss.reply("250 2.0.0 ok")
		case "QUIT":
			ss.reply("221 2.0.0 bye")
			return
		default:
			ss.reply("502 5.5.2 not implemented")
		}
	}
}

func (ss *session) reset(c net.Conn) {
	ss.conn = c
	ss.r = textproto.NewReader(bufio.NewReader(c))
	ss.w = bufio.NewWriter(c)
}

func (ss *session) reply(s string) {
	ss.w.WriteString(s + "\r\n") //nolint:errcheck
	ss.w.Flush()                 //nolint:errcheck
}

func (s *Server) record(ss *session, data []byte) {
	m := Message{From: ss.from, To: append([]string(nil), ss.to...), Data: data, TLS: ss.tls, User: ss.user, At: time.Now()}
	if pm, err := mail.ReadMessage(bytes.NewReader(data)); err == nil {
		m.MessageID = pm.Header.Get("Message-ID")
		if subj, err := new(mime.WordDecoder).DecodeHeader(pm.Header.Get("Subject")); err == nil {
			m.Subject = subj
		}
		var body io.Reader = pm.Body
		if strings.EqualFold(pm.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			body = quotedprintable.NewReader(body)
		}
		if b, err := io.ReadAll(body); err == nil {
			m.Body = strings.ReplaceAll(string(b), "\r\n", "\n")
		}
	}
	s.mu.Lock()
	s.messages = append(s.messages, m)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

func addrOf(arg string) string {
	i, j := strings.IndexByte(arg, '<'), strings.IndexByte(arg, '>')
	if i >= 0 && j > i {
		return arg[i+1 : j]
	}
	return ""
}

func selfSigned() *tls.Config {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtptest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}},
		MinVersion: tls.VersionTLS12}
}
