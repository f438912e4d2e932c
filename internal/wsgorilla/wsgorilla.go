// Package wsgorilla serves GraphQL over websockets with
// github.com/gorilla/websocket: the server's transport (Detached, which
// speaks graphql-transport-ws and the legacy graphql-ws itself, for what
// an idle subscriber costs), and an Implementation that also plugs
// gorilla into gqlgen's own transport.Websocket.
//
// Everything that is a property of the socket itself lives here: which
// browser origins may open a socket, how long a write may block, how
// large a message may be, and when a silent peer is given up on.
package wsgorilla

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
)

// DefaultWriteTimeout bounds every write when Options.WriteTimeout is zero.
const DefaultWriteTimeout = 10 * time.Second

// Buffer sizes. A subscription socket sits idle almost all the time, so
// what it holds between messages limits how many a server keeps open.
// Each socket keeps a small read buffer (client messages are a few
// hundred bytes; larger ones are read in pieces) and borrows a write
// buffer from a shared pool only while it writes a message (larger
// messages go out as several frames). See also releaseHTTPBuffers.
const (
	readBufferSize  = 512
	writeBufferSize = 4 << 10
)

// writeBuffers is shared by every Implementation: a buffer goes back as
// soon as its message is on the wire.
var writeBuffers sync.Pool

// Options configures an Implementation. The zero value refuses every
// browser origin and accepts non-browser clients.
type Options struct {
	// AllowedOrigins lists the browser origins that may open a socket, as
	// scheme://host[:port] (for example "https://app.example.org"). Matching
	// is exact and case-insensitive; a default port must be written the way
	// browsers send it, that is, omitted.
	AllowedOrigins []string
	// AllowAnyOrigin skips the origin check. It exists for local development
	// only: with cookies or other ambient credentials it lets any web page
	// open an authenticated socket on behalf of a visitor. It takes
	// precedence over AllowedOrigins.
	AllowAnyOrigin bool
	// CheckOrigin, when set, decides instead of AllowedOrigins and
	// AllowAnyOrigin (the server shares one policy with its CORS).
	CheckOrigin func(r *http.Request) bool
	// WriteTimeout bounds each write (messages, close frames, pings and the
	// handshake response). Zero means DefaultWriteTimeout.
	WriteTimeout time.Duration
	// PingInterval, when positive, sends a websocket ping frame at this
	// interval and drops a peer that lets two whole intervals pass without
	// a pong. gqlgen's PingPongInterval only covers graphql-transport-ws;
	// this also detects dead graphql-ws peers, whose protocol has no ping.
	// Zero disables it.
	PingInterval time.Duration
	// ConnectionError, when set, gives the error extensions (a code the
	// client can act on) of the legacy protocol's connection_error, whose
	// payload gqlgen writes as a bare message: its argument is that
	// message, ctx the upgrade request's.
	ConnectionError func(ctx context.Context, message string) map[string]any
}

// Implementation accepts gqlgen websocket connections with gorilla/websocket.
// It is safe for concurrent use.
type Implementation struct {
	allowed      map[string]struct{}
	allowAny     bool
	check        func(r *http.Request) bool
	writeTimeout time.Duration
	pingInterval time.Duration
	connError    func(ctx context.Context, message string) map[string]any
}

var _ transport.WebsocketImplementation = (*Implementation)(nil)

// New validates opts and returns an Implementation.
func New(opts Options) (*Implementation, error) {
	if opts.WriteTimeout < 0 {
		return nil, errors.New("wsgorilla: negative WriteTimeout")
	}
	if opts.PingInterval < 0 {
		return nil, errors.New("wsgorilla: negative PingInterval")
	}
	impl := &Implementation{
		allowed:      make(map[string]struct{}, len(opts.AllowedOrigins)),
		allowAny:     opts.AllowAnyOrigin,
		check:        opts.CheckOrigin,
		writeTimeout: opts.WriteTimeout,
		pingInterval: opts.PingInterval,
		connError:    opts.ConnectionError,
	}
	if impl.writeTimeout == 0 {
		impl.writeTimeout = DefaultWriteTimeout
	}
	for _, o := range opts.AllowedOrigins {
		n, err := normalizeOrigin(o)
		if err != nil {
			return nil, err
		}
		impl.allowed[n] = struct{}{}
	}
	return impl, nil
}

// normalizeOrigin turns a configured origin into the form browsers send, so
// that the per-request check is a plain map lookup and never has to parse
// attacker-controlled input.
func normalizeOrigin(o string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(o))
	if err != nil {
		return "", fmt.Errorf("wsgorilla: allowed origin %q: %w", o, err)
	}
	if u.Scheme == "" || u.Host == "" || u.User != nil || u.Opaque != "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("wsgorilla: allowed origin %q: want scheme://host[:port]", o)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// CheckOrigin reports whether r may be upgraded. Browsers always send
// Origin on websocket handshakes and a page cannot forge it, so it is what
// stops a foreign page from riding a visitor's credentials (cross-site
// websocket hijacking). Requests without Origin come from non-browser
// clients, which could set any header anyway, and are allowed.
func (i *Implementation) CheckOrigin(r *http.Request) bool {
	origin, present := r.Header["Origin"]
	if !present {
		return true
	}
	if i.allowAny {
		return true
	}
	if i.check != nil {
		return i.check(r)
	}
	// Several Origin headers are never sent by a browser; refuse rather
	// than guess which one counts.
	if len(origin) != 1 {
		return false
	}
	_, ok := i.allowed[strings.ToLower(origin[0])]
	return ok
}

// Accept upgrades the request. gqlgen passes the GraphQL sub-protocols it
// speaks; gorilla picks the first of them the client offers, and an empty
// result is read by gqlgen as legacy graphql-ws, as with its own adapter.
func (i *Implementation) Accept(w http.ResponseWriter, r *http.Request, options transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	up := websocket.Upgrader{
		ReadBufferSize:   0, // gorilla reuses the reader Hijack returns
		WriteBufferSize:  writeBufferSize,
		WriteBufferPool:  &writeBuffers,
		HandshakeTimeout: i.writeTimeout,
		Subprotocols:     options.Subprotocols,
		CheckOrigin:      i.CheckOrigin,
		Error:            handshakeError,
	}
	rw := &releaseHTTPBuffers{ResponseWriter: w}
	ws, err := up.Upgrade(rw, r, options.ResponseHeader)
	if err != nil {
		return nil, err
	}
	c := &conn{ws: ws, writeTimeout: i.writeTimeout, done: make(chan struct{})}
	c.watchReads(rw.br, ws.NetConn())
	if i.connError != nil {
		ctx := r.Context()
		c.connError = func(msg string) map[string]any { return i.connError(ctx, msg) }
	}
	if s := socketOf(r.Context()); s != nil {
		c.onClose = s.closed
		s.attach(c)
	}
	if i.pingInterval > 0 {
		c.startPings(i.pingInterval)
	}
	return c, nil
}

// handshakeError writes only the status of a refused upgrade: gqlgen
// follows every failed Accept with its own JSON error body on the same
// response, so a body written here would end up glued in front of it.
func handshakeError(w http.ResponseWriter, _ *http.Request, status int, _ error) {
	w.Header().Set("Sec-Websocket-Version", "13")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
}

// releaseHTTPBuffers hands gorilla a hijacked connection without the 4 KiB
// read and write buffers of net/http's connection. gqlgen serves the whole
// websocket conversation inside the HTTP handler, and net/http's
// connection object, which owns those two buffers, stays referenced until
// the handler returns: 8 KiB per socket for its whole life, although
// nothing reads or writes through them after the hijack. gorilla could
// reuse them, but then every idle socket keeps a 4 KiB write buffer
// instead of borrowing one from writeBuffers.
type releaseHTTPBuffers struct {
	http.ResponseWriter
	br *bufio.Reader // the socket's read buffer, given to gorilla
}

// Hijack empties the buffers net/http gives away (after a hijack they are
// the caller's, and net/http never touches them again) and returns fresh
// ones: the socket's read buffer (readBufferSize), which gorilla reuses
// as its own and conn looks into (see conn.awaitData), and a minimal
// writer, since gorilla takes writes from the pool. Bytes the client sent
// early are left alone: gorilla refuses such a handshake anyway.
func (h *releaseHTTPBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil || brw == nil || brw.Reader.Buffered() > 0 {
		return c, brw, err
	}
	*brw.Reader = bufio.Reader{}
	*brw.Writer = bufio.Writer{}
	h.br = bufio.NewReaderSize(c, readBufferSize)
	return c, bufio.NewReadWriter(h.br, bufio.NewWriterSize(c, 16)), nil
}
