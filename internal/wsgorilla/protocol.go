package wsgorilla

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The GraphQL conversation over a socket is spoken here rather than by
// gqlgen's transport.Websocket, for what an idle subscriber costs. gqlgen
// keeps a goroutine per socket that only waits for the end (a 4 KiB stack
// at the least, since the runtime shrinks a stack only while less than a
// quarter of it minus 800 bytes is in use), and its reading goroutine
// waits about 2.8 KiB deep, which keeps it at 8 KiB. Here the socket's
// close ends the conversation's context, nothing waits for it, and the
// reading goroutine waits under 1.2 KiB deep, at 4 KiB.
//
// Both sub-protocols are spoken: graphql-transport-ws (the graphql-ws
// library, Apollo's GraphQLWsLink, urql), and the legacy graphql-ws of
// subscriptions-transport-ws, which a client gets when it offers no
// sub-protocol.

const legacyGraphQLWS = "graphql-ws"

var subprotocols = []string{graphqlTransportWS, legacyGraphQLWS}

// defaultReadLimit bounds a client message when the configuration names
// none (gqlgen's default).
const defaultReadLimit = 1 << 20

// Close codes of graphql-transport-ws for a conversation out of order.
const (
	closeUnauthorized     = 4401 // an operation before connection_ack
	closeInitTimeout      = 4408 // no connection_init in time
	closeDuplicateID      = 4409 // a subscribe reusing an open id
	closeTooManyInitCalls = 4429 // a second connection_init
)

// Refused is the error an InitFunc refuses a socket with: the socket
// closes with Code and Reason (the legacy protocol's connection_error
// first carries the error's text). Any other error closes it with
// CloseReauthenticate.
type Refused struct {
	Code   int
	Reason string
}

func (r Refused) Error() string { return r.Reason }

// errUnusableMessage is a client message neither protocol can use: not
// JSON, an unknown type, an operation that is no operation.
var errUnusableMessage = errors.New("wsgorilla: unusable message")

// session is one socket's conversation.
type session struct {
	cfg    *transport.Websocket
	c      *conn
	exec   graphql.GraphExecutor
	legacy bool
	// ctx is the conversation's: InitFunc's once the socket is
	// initialised. It ends when the socket closes.
	ctx context.Context

	mu     sync.Mutex
	active map[string]context.CancelFunc
	ka     *time.Timer // the legacy protocol's keep-alive
}

// accept upgrades the request and initialises the conversation, and
// returns it when it goes on (see run); cfg is the gqlgen transport's
// configuration, of which Implementation (one of this package), InitFunc,
// InitTimeout, KeepAlivePingInterval, PayloadReadLimit and ErrorFunc are
// used.
func accept(cfg *transport.Websocket, w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) *session {
	ws, err := cfg.Implementation.Accept(w, r, transport.WebsocketAcceptOptions{
		ResponseHeader: http.Header{},
		Subprotocols:   subprotocols,
	})
	if err != nil {
		transport.SendErrorf(w, http.StatusBadRequest, "unable to upgrade")
		return nil
	}
	c, ok := ws.(*conn)
	if !ok {
		_ = ws.Close()
		return nil
	}
	limit := int64(defaultReadLimit)
	if cfg.PayloadReadLimit != nil {
		limit = *cfg.PayloadReadLimit
	}
	if limit > 0 {
		c.SetReadLimit(limit)
	}
	s := &session{cfg: cfg, c: c, exec: exec, ctx: r.Context(), legacy: c.Subprotocol() != graphqlTransportWS}
	if !s.init() {
		s.finish()
		return nil
	}
	return s
}

// finish ends what the conversation started: its operations and its
// keep-alive.
func (s *session) finish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ka != nil {
		s.ka.Stop()
	}
	for _, cancel := range s.active {
		cancel()
	}
}

// read returns the next message, errUnusableMessage for one that does
// not decode, or the connection's error.
func (s *session) read() (message, error) {
	_, r, err := s.c.NextReader()
	if err != nil {
		return message{}, err
	}
	return decode(r)
}

// decode reads one message, errUnusableMessage when it is none.
func decode(r io.Reader) (message, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return message{}, err
	}
	var m message
	if json.Unmarshal(data, &m) != nil || m.Type == "" {
		return message{}, errUnusableMessage
	}
	return m, nil
}

func (s *session) send(m message) { _ = s.c.send(m) }

// refuse closes the socket over a message it cannot use, and tells the
// configuration's ErrorFunc, as a read error.
func (s *session) refuse() {
	s.c.refuseMessage()
	if s.cfg.ErrorFunc != nil {
		s.cfg.ErrorFunc(s.ctx, transport.WebsocketError{Err: errUnusableMessage, IsReadError: true})
	}
}

// init waits for connection_init and hands its payload to InitFunc.
func (s *session) init() bool {
	if s.cfg.InitTimeout > 0 {
		_ = s.c.ws.SetReadDeadline(time.Now().Add(s.cfg.InitTimeout))
	}
	m, err := s.read()
	if err != nil {
		var ne net.Error
		switch {
		case errors.Is(err, errUnusableMessage):
			s.refuse()
		case errors.As(err, &ne) && ne.Timeout():
			code := closeInitTimeout
			if s.legacy {
				code = websocket.CloseProtocolError
			}
			_ = s.c.writeClose(code, "connection initialisation timeout", closeGrace)
		}
		return false
	}
	_ = s.c.ws.SetReadDeadline(time.Time{})
	if m.Type != "connection_init" {
		if s.legacy {
			s.connectionError("unexpected message " + m.Type)
			_ = s.c.writeClose(websocket.CloseProtocolError, "unexpected message", closeGrace)
		} else {
			_ = s.c.writeClose(closeUnauthorized, "Unauthorized", closeGrace)
		}
		return false
	}
	var payload transport.InitPayload
	if len(m.Payload) > 0 && json.Unmarshal(m.Payload, &payload) != nil {
		s.refuse()
		return false
	}
	if payload == nil {
		payload = transport.InitPayload{}
	}
	if s.cfg.InitFunc != nil {
		ctx, _, err := s.cfg.InitFunc(s.ctx, payload)
		if err != nil {
			refusal := Refused{Code: CloseReauthenticate, Reason: err.Error()}
			errors.As(err, &refusal)
			if s.legacy {
				s.connectionError(err.Error())
			}
			_ = s.c.writeClose(refusal.Code, refusal.Reason, closeGrace)
			return false
		}
		s.ctx = ctx
	}
	s.send(message{Type: "connection_ack"})
	if s.legacy {
		s.send(message{Type: "ka"})
		if d := s.cfg.KeepAlivePingInterval; d > 0 {
			s.mu.Lock()
			s.ka = time.AfterFunc(d, s.keepAlive)
			s.mu.Unlock()
		}
	}
	return true
}

// keepAlive sends the legacy protocol's "ka", on a timer rather than a
// goroutine per socket.
func (s *session) keepAlive() {
	if s.c.closed() || s.ctx.Err() != nil {
		return
	}
	s.send(message{Type: "ka"})
	s.mu.Lock()
	s.ka.Reset(s.cfg.KeepAlivePingInterval)
	s.mu.Unlock()
}

// connectionError sends the legacy protocol's connection_error, with the
// extensions Options.ConnectionError gives its message.
func (s *session) connectionError(msg string) {
	p := map[string]any{"message": msg}
	if s.c.connError != nil {
		if ext := s.c.connError(msg); len(ext) > 0 {
			p["extensions"] = ext
		}
	}
	payload, _ := json.Marshal(p)
	s.send(message{Type: "connection_error", Payload: payload})
}

// run answers the client's messages until the socket fails or closes.
// Its frame, and those it waits under (see awaitData), are what an idle
// socket's reading goroutine keeps: what a message needs is in handle.
func (s *session) run() {
	for {
		_, r, err := s.c.NextReader()
		if err != nil {
			return
		}
		if !s.handle(r) {
			return
		}
	}
}

// handle answers one message; false when it ended the conversation.
//
//go:noinline
func (s *session) handle(r io.Reader) bool {
	start := graphql.Now()
	m, err := decode(r)
	if err != nil {
		if errors.Is(err, errUnusableMessage) {
			s.refuse()
		}
		return false
	}
	switch {
	case m.Type == "subscribe" && !s.legacy, m.Type == "start" && s.legacy:
		return s.subscribe(start, m)
	case m.Type == "complete" && !s.legacy, m.Type == "stop" && s.legacy:
		s.mu.Lock()
		cancel := s.active[m.ID]
		s.mu.Unlock()
		if cancel != nil {
			cancel()
		}
	case m.Type == "ping" && !s.legacy:
		s.send(message{Type: "pong", Payload: m.Payload})
	case m.Type == "pong" && !s.legacy:
	case m.Type == "connection_terminate" && s.legacy:
		_ = s.c.writeClose(websocket.CloseNormalClosure, "terminated", closeGrace)
		return false
	case m.Type == "connection_init" && !s.legacy:
		_ = s.c.writeClose(closeTooManyInitCalls, "Too many initialisation requests", closeGrace)
		return false
	case s.legacy:
		s.connectionError("unexpected message " + m.Type)
		s.refuse()
		return false
	default:
		s.refuse()
		return false
	}
	return true
}

// subscribe starts an operation; false when the message ended the
// conversation.
func (s *session) subscribe(start time.Time, m message) bool {
	if m.ID == "" {
		s.refuse()
		return false
	}
	s.mu.Lock()
	_, taken := s.active[m.ID]
	s.mu.Unlock()
	if taken {
		if s.legacy {
			s.refuse()
		} else {
			_ = s.c.writeClose(closeDuplicateID, "Subscriber for "+truncateUTF8(m.ID, 64)+" already exists", closeGrace)
		}
		return false
	}
	params := &graphql.RawParams{}
	dec := json.NewDecoder(bytes.NewReader(m.Payload))
	dec.UseNumber()
	if err := dec.Decode(params); err != nil {
		s.refuse()
		return false
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	ctx := graphql.StartOperationTrace(s.ctx)
	rc, err := s.exec.CreateOperationContext(ctx, params)
	if err != nil {
		resp := s.exec.DispatchError(graphql.WithOperationContext(ctx, rc), err)
		if errcode.GetErrorKind(err) == errcode.KindProtocol {
			s.sendErrors(m.ID, resp.Errors...)
		} else {
			s.sendResponse(m.ID, &graphql.Response{Errors: err})
		}
		s.send(message{Type: "complete", ID: m.ID})
		return true
	}
	ctx, cancel := context.WithCancel(graphql.WithOperationContext(ctx, rc))
	s.mu.Lock()
	if s.active == nil {
		s.active = map[string]context.CancelFunc{}
	}
	s.active[m.ID] = cancel
	s.mu.Unlock()
	go s.stream(withEndErrors(ctx), cancel, m.ID, rc)
	return true
}

// stream forwards an operation's responses until it ends. Its frame and
// those it waits under are what an idle subscription's goroutine keeps.
func (s *session) stream(ctx context.Context, cancel context.CancelFunc, id string, rc *graphql.OperationContext) {
	defer s.ended(ctx, cancel, id, rc)
	responses, ctx := s.exec.DispatchOperation(ctx, rc)
	for {
		r := responses(ctx)
		if r == nil {
			return
		}
		s.sendResponse(id, r)
	}
}

// ended closes an operation: with the errors it ended with, or a
// complete; nothing when the socket itself is closing, since a complete
// would tell a client the subscription is over for good.
func (s *session) ended(ctx context.Context, cancel context.CancelFunc, id string, rc *graphql.OperationContext) {
	if r := recover(); r != nil {
		err := rc.Recover(ctx, r)
		var ge *gqlerror.Error
		if !errors.As(err, &ge) {
			ge = &gqlerror.Error{}
			if err != nil {
				ge.Message = err.Error()
			}
		}
		s.sendErrors(id, ge)
	}
	if errs := endErrorsOf(ctx); len(errs) > 0 {
		s.sendErrors(id, errs...)
	} else if s.ctx.Err() == nil {
		s.send(message{Type: "complete", ID: id})
	}
	s.mu.Lock()
	delete(s.active, id)
	s.mu.Unlock()
	cancel()
}

func (s *session) sendResponse(id string, r *graphql.Response) {
	t := "next"
	if s.legacy {
		t = "data"
	}
	if plainFrame(id, t, r) {
		_ = s.c.writeResult(id, t, r.Data)
		return
	}
	frame, err := marshalledFrame(id, t, r)
	if err != nil {
		panic(err)
	}
	_ = s.c.write(frame)
}

// sendErrors sends an error message, its payload a list of errors in
// either protocol.
func (s *session) sendErrors(id string, errs ...*gqlerror.Error) {
	payload, err := json.Marshal(errs)
	if err != nil {
		panic(err)
	}
	s.send(message{Type: "error", ID: id, Payload: payload})
}

// endErrors holds what an operation ends with instead of a complete
// (EndWithError).
type endErrors struct {
	mu   sync.Mutex
	errs []*gqlerror.Error
}

type endErrorsKey struct{}

func withEndErrors(ctx context.Context) context.Context {
	return context.WithValue(ctx, endErrorsKey{}, &endErrors{})
}

func endErrorsOf(ctx context.Context) []*gqlerror.Error {
	e, _ := ctx.Value(endErrorsKey{}).(*endErrors)
	if e == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.errs
}

// EndWithError makes the operation ctx belongs to end with err in an
// error message instead of a complete, once its stream ends. It reports
// false when ctx is no operation over a socket served here.
func EndWithError(ctx context.Context, err *gqlerror.Error) bool {
	e, _ := ctx.Value(endErrorsKey{}).(*endErrors)
	if e == nil {
		return false
	}
	e.mu.Lock()
	e.errs = append(e.errs, err)
	e.mu.Unlock()
	return true
}
