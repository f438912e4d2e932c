// Package multipart is the GraphQL multipart request transport (file
// uploads, github.com/jaydenseric/graphql-multipart-request-spec).
//
// It does what gqlgen's MultipartForm does, with one difference that
// matters for medical files: gqlgen copies every file larger than its
// memory allowance to a plaintext temporary file for the duration of the
// request, while this transport seals such files (see spool). Its refusals
// carry the contract's BAD_USER_INPUT code.
package multipart

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/healthmed/healthmed/internal/gqlerr"
)

// Transport serves multipart/form-data GraphQL requests.
type Transport struct {
	// MaxBodyBytes bounds the whole request body.
	MaxBodyBytes int64
	// MaxMemory is how much of one file is held in memory before it is
	// spooled, sealed, to a temporary file.
	MaxMemory int64
	// RequestID, when set, names the request in refusals' extensions.
	RequestID func(*http.Request) string

	// createFile makes the temporary file; tests look at what is written.
	createFile func() (*os.File, error)
}

var _ graphql.Transport = Transport{}

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
	if t.MaxBodyBytes > 0 {
		if r.ContentLength > t.MaxBodyBytes {
			t.refuse(w, r, "request body too large")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, t.MaxBodyBytes)
	}
	defer r.Body.Close()

	params, spools, err := t.read(r)
	defer func() {
		for _, s := range spools {
			s.close()
		}
	}()
	if err != nil {
		t.refuse(w, r, err.Error())
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	rc, gerr := exec.CreateOperationContext(r.Context(), params)
	if gerr != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(r.Context(), rc), gerr)
		if errcode.GetErrorKind(gerr) == errcode.KindProtocol {
			w.WriteHeader(http.StatusUnprocessableEntity)
		}
		_ = json.NewEncoder(w).Encode(resp)
		return
	}
	responses, ctx := exec.DispatchOperation(r.Context(), rc)
	_ = json.NewEncoder(w).Encode(responses(ctx))
}

// read parses the parts in the order the spec fixes: operations, map, then
// the files, each put in place in the variables as it arrives.
func (t Transport) read(r *http.Request) (*graphql.RawParams, []*spool, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, errors.New("malformed multipart body")
	}
	part, err := mr.NextPart()
	if err != nil || part.FormName() != "operations" {
		return nil, nil, errors.New("the first part must be operations")
	}
	params := &graphql.RawParams{}
	dec := json.NewDecoder(part)
	dec.UseNumber()
	if err := dec.Decode(params); err != nil {
		return nil, nil, errors.New("operations is not a JSON operation")
	}
	part, err = mr.NextPart()
	if err != nil || part.FormName() != "map" {
		return nil, nil, errors.New("the second part must be map")
	}
	paths := map[string][]string{}
	if err := json.NewDecoder(part).Decode(&paths); err != nil {
		return nil, nil, errors.New("map is not a JSON object of paths")
	}
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
			return nil, spools, errors.New("malformed multipart body")
		}
		key := part.FormName()
		targets := paths[key]
		if len(targets) == 0 {
			return nil, spools, fmt.Errorf("file %q is not in map", key)
		}
		delete(paths, key)
		s := &spool{}
		spools = append(spools, s)
		if err := s.fill(part, t.MaxMemory, create); err != nil {
			return nil, spools, fmt.Errorf("file %q could not be read", key)
		}
		for _, path := range targets {
			up := graphql.Upload{File: s.reader(), Size: s.size, Filename: part.FileName(),
				ContentType: part.Header.Get("Content-Type")}
			if gerr := params.AddUpload(up, key, path); gerr != nil {
				return nil, spools, errors.New(gerr.Message)
			}
		}
	}
	for key := range paths {
		return nil, spools, fmt.Errorf("file %q named in map is missing", key)
	}
	return params, spools, nil
}

func (t Transport) refuse(w http.ResponseWriter, r *http.Request, msg string) {
	ext := map[string]any{"code": gqlerr.BadUserInput}
	if t.RequestID != nil {
		ext["requestId"] = t.RequestID(r)
	}
	w.WriteHeader(http.StatusUnprocessableEntity)
	_ = json.NewEncoder(w).Encode(&graphql.Response{Errors: gqlerror.List{{Message: msg, Extensions: ext}}})
}
