// Package multipart is the GraphQL multipart request transport (file
// uploads, github.com/jaydenseric/graphql-multipart-request-spec).
//
// It differs from gqlgen's MultipartForm in what a stranger can make it
// do before anything is checked. The operations and map parts are read
// under the JSON body cap; the operation is then parsed, validated and
// matched against the map (every file lands on a variable of type Upload,
// and nothing else does) before the first byte of a file is read, and
// only a signed-in caller gets that far. Files larger than the memory
// allowance wait for their resolver in a temporary file sealed with a key
// that exists only in memory (see spool), not in plaintext as gqlgen
// leaves them. Every refusal carries a contract code and the request id.
package multipart

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	mimemultipart "mime/multipart"
	"net/http"
	"os"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/jsonreq"
)

// Transport serves multipart/form-data GraphQL requests.
type Transport struct {
	// MaxBodyBytes bounds the whole request body (see BodyLimit).
	MaxBodyBytes int64
	// MaxOperationBytes bounds the operations and map parts together:
	// the same cap as a JSON request's body.
	MaxOperationBytes int64
	// MaxFiles bounds the files of one request, and the paths of the map
	// together.
	MaxFiles int
	// MaxMemory is how much of one file is held in memory before it is
	// spooled, sealed, to a temporary file.
	MaxMemory int64
	// Schema, when set, lets a file sit in a field of an input object;
	// without it, files go only in variables of type Upload or [Upload].
	Schema *ast.Schema
	// SignedIn reports whether the request's caller is signed in. Nobody
	// else may upload: an anonymous request is refused before its body
	// is read. Nil refuses everyone.
	SignedIn func(context.Context) bool
	// TokenRefused, when set, gives the reason the request's bearer token
	// was refused ("" when none was), for the refusal to carry it.
	TokenRefused func(context.Context) string
	// RequestID, when set, names the request in refusals' extensions.
	RequestID func(*http.Request) string

	// createFile makes the temporary file; tests look at what is written.
	createFile func() (*os.File, error)
}

var _ graphql.Transport = Transport{}

// partsOverhead leaves room beside the files for the operations and map
// parts and the multipart framing. A file between the file limit and the
// body limit reaches the resolver, which refuses it with the same code.
const partsOverhead = 1 << 20

// BodyLimit is the largest multipart body for a file of at most fileLimit
// bytes.
func BodyLimit(fileLimit int64) int64 { return fileLimit + partsOverhead }

// framingAllowance is what the body may hold beyond the operations and map
// parts before the operation is checked: the preamble, part headers and
// boundaries, and the read-ahead of the multipart reader. Part headers are
// otherwise allowed up to 10 MB by mime/multipart.
const framingAllowance = 32 << 10

// Supports implements graphql.Transport.
func (Transport) Supports(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" || r.Method != http.MethodPost {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

// Do implements graphql.Transport.
func (t Transport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	w.Header().Set("Content-Type", "application/json")
	start := graphql.Now()
	if t.SignedIn == nil || !t.SignedIn(r.Context()) {
		// HTTP 200, as every other GraphQL error of /graphql, so that a
		// client's auth link sees the code (and refreshes on
		// TOKEN_EXPIRED) rather than a network error.
		rf := &refusal{status: http.StatusOK, code: gqlerr.Unauthenticated, msg: "sign in to upload files", unread: true}
		if t.TokenRefused != nil {
			rf.reason = t.TokenRefused(r.Context())
		}
		t.refuse(w, r, rf)
		return
	}
	if r.ContentLength > t.MaxBodyBytes {
		t.refuse(w, r, errTooLarge)
		return
	}
	body := &budget{ReadCloser: r.Body, limit: t.MaxOperationBytes + framingAllowance}
	r.Body = body
	defer body.Close()

	var spools []*spool
	defer func() {
		for _, s := range spools {
			s.close()
		}
	}()
	fail := func(err error) {
		if body.over {
			err = errTooLarge
		}
		t.refuse(w, r, err)
	}

	mr, err := r.MultipartReader()
	if err != nil {
		fail(badInput("", "malformed multipart body"))
		return
	}
	params, paths, err := t.readOperation(mr)
	if err != nil {
		fail(err)
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	rc, gerr := exec.CreateOperationContext(r.Context(), params)
	if gerr != nil {
		// The kind is read from gqlgen's code before the error presenter
		// replaces it with the contract's (BAD_USER_INPUT), which names no
		// kind: read after, every refused operation answered 200.
		refused := errcode.GetErrorKind(gerr) == errcode.KindProtocol
		resp := exec.DispatchError(graphql.WithOperationContext(r.Context(), rc), gerr)
		if refused {
			w.WriteHeader(http.StatusUnprocessableEntity)
		}
		_ = json.NewEncoder(w).Encode(resp)
		return
	}
	if err := t.checkOperation(rc, paths); err != nil {
		fail(err)
		return
	}

	// Only now are file bytes worth reading.
	body.limit = t.MaxBodyBytes
	spools, err = t.readFiles(mr, rc.Variables, paths)
	if err != nil {
		fail(err)
		return
	}
	responses, ctx := exec.DispatchOperation(r.Context(), rc)
	_ = json.NewEncoder(w).Encode(responses(ctx))
}

// readOperation reads the operations and map parts, in the order the spec
// fixes, within MaxOperationBytes, and puts a placeholder upload at every
// path of the map, so that the operation's variables validate before any
// file is read.
func (t Transport) readOperation(mr *mimemultipart.Reader) (*graphql.RawParams, map[string][]string, error) {
	left := t.MaxOperationBytes
	part, err := mr.NextPart()
	if err != nil || part.FormName() != "operations" {
		return nil, nil, badInput("operations", "the first part must be operations")
	}
	raw, err := readCapped(part, &left)
	if err != nil {
		return nil, nil, err
	}
	params := &graphql.RawParams{}
	if err := jsonreq.Decode(raw, params); err != nil {
		if errors.Is(err, jsonreq.ErrTooDeep) {
			return nil, nil, badInput("operations", "operations nests too deeply")
		}
		return nil, nil, badInput("operations", "operations is not a JSON operation")
	}
	part, err = mr.NextPart()
	if err != nil || part.FormName() != "map" {
		return nil, nil, badInput("map", "the second part must be map")
	}
	if raw, err = readCapped(part, &left); err != nil {
		return nil, nil, err
	}
	paths := map[string][]string{}
	if err := json.Unmarshal(raw, &paths); err != nil || paths == nil {
		return nil, nil, badInput("map", "map is not a JSON object of paths")
	}
	if err := t.placeholders(params, paths); err != nil {
		return nil, nil, err
	}
	return params, paths, nil
}

// placeholders checks the map's size and shape and marks its paths.
func (t Transport) placeholders(params *graphql.RawParams, paths map[string][]string) error {
	if len(paths) > t.MaxFiles {
		return &refusal{status: http.StatusRequestEntityTooLarge, code: gqlerr.PayloadTooLarge, field: "map",
			msg: "too many files in one request"}
	}
	if params.Variables == nil {
		params.Variables = map[string]any{}
	}
	n := 0
	seen := map[string]bool{}
	for key, list := range paths {
		if len(list) == 0 {
			return badInput("map", "file %q is mapped to no variable", key)
		}
		n += len(list)
		if n > t.MaxFiles {
			return &refusal{status: http.StatusRequestEntityTooLarge, code: gqlerr.PayloadTooLarge, field: "map",
				msg: "too many paths in map"}
		}
		for _, p := range list {
			if seen[p] {
				return badInput("map", "path %q is named twice", p)
			}
			seen[p] = true
			if err := place(params.Variables, p, placeholder, true); err != nil {
				return badInput("map", "path %q: %s", p, err)
			}
		}
	}
	return nil
}

// placeholder stands for a file not read yet.
var placeholder = graphql.Upload{}

// readFiles reads the file parts, each named in map, and puts each file in
// place of its placeholders in the operation's variables.
func (t Transport) readFiles(mr *mimemultipart.Reader, vars map[string]any, paths map[string][]string) ([]*spool, error) {
	create := t.createFile
	if create == nil {
		create = newSpoolFile
	}
	var spools []*spool
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return spools, badInput("", "malformed multipart body")
		}
		key := part.FormName()
		targets := paths[key]
		if len(targets) == 0 {
			return spools, badInput("map", "file %q is not in map", key)
		}
		delete(paths, key)
		s := &spool{}
		spools = append(spools, s)
		if err := s.fill(part, t.MaxMemory, create); err != nil {
			return spools, badInput("", "file %q could not be read", key)
		}
		for _, p := range targets {
			up := graphql.Upload{File: s.reader(), Size: s.size, Filename: part.FileName(),
				ContentType: part.Header.Get("Content-Type")}
			if err := place(vars, p, up, false); err != nil {
				return spools, badInput("map", "path %q: %s", p, err)
			}
		}
	}
	for key := range paths {
		return spools, badInput("map", "file %q named in map is missing", key)
	}
	return spools, nil
}

// readCapped reads a part whole, within what is left of the budget.
func readCapped(r io.Reader, left *int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, *left+1))
	if err != nil {
		return nil, badInput("", "malformed multipart body")
	}
	if int64(len(b)) > *left {
		return nil, errTooLarge
	}
	*left -= int64(len(b))
	return b, nil
}
