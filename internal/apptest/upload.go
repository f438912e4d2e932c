package apptest

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
)

// File is one file of a multipart upload.
type File struct {
	Name string
	// ContentType is what the client claims; the server sniffs anyway.
	ContentType string
	Content     []byte
}

// Upload sends a GraphQL multipart request (the spec that
// apollo-upload-client and urql speak) with f at variables.file.
func (e *Env) Upload(token, query string, vars map[string]any, f File) Response {
	e.T.Helper()
	body, contentType := multipartBody(query, vars, f)
	req, _ := http.NewRequest(http.MethodPost, e.Server.URL+"/graphql", bytes.NewReader(body))
	return e.sendUpload(req, token, contentType)
}

// UploadChunked is Upload without a Content-Length, as a client streaming
// its body sends it.
func (e *Env) UploadChunked(token, query string, vars map[string]any, f File) Response {
	e.T.Helper()
	return e.UploadStream(token, query, vars, f.Name, bytes.NewReader(f.Content))
}

// UploadStream sends content as it reads it, without a Content-Length:
// the request never exists whole in the test's memory either.
func (e *Env) UploadStream(token, query string, vars map[string]any, name string, content io.Reader) Response {
	e.T.Helper()
	pr, pw := io.Pipe()
	w := multipart.NewWriter(pw)
	go func() {
		err := writeParts(w, query, vars, File{Name: name}, content)
		if err == nil {
			err = w.Close()
		}
		pw.CloseWithError(err)
	}()
	req, _ := http.NewRequest(http.MethodPost, e.Server.URL+"/graphql", pr)
	return e.sendUpload(req, token, w.FormDataContentType())
}

func (e *Env) sendUpload(req *http.Request, token, contentType string) Response {
	e.T.Helper()
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.send(req)
}

func multipartBody(query string, vars map[string]any, f File) ([]byte, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = writeParts(w, query, vars, f, bytes.NewReader(f.Content))
	_ = w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

// writeParts writes the operations, the map and the file, in the order
// the multipart request spec requires.
func writeParts(w *multipart.Writer, query string, vars map[string]any, f File, content io.Reader) error {
	v := map[string]any{"file": nil}
	for k, val := range vars {
		v[k] = val
	}
	ops, _ := json.Marshal(map[string]any{"query": query, "variables": v})
	if err := w.WriteField("operations", string(ops)); err != nil {
		return err
	}
	if err := w.WriteField("map", `{"0":["variables.file"]}`); err != nil {
		return err
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="0"; filename="`+
		strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(f.Name)+`"`)
	ct := f.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	part, err := w.CreatePart(h)
	if err != nil {
		return err
	}
	_, err = io.Copy(part, content)
	return err
}

// Download follows a download link made for this server, with a bearer
// token when token is not "". err is what reading the body ended with: a
// download the server aborted half way shows there.
func (e *Env) Download(token, link string) (res *http.Response, body []byte, err error) {
	e.T.Helper()
	u := link
	if strings.HasPrefix(link, e.Config.PublicURL) {
		u = e.Server.URL + strings.TrimPrefix(link, e.Config.PublicURL)
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err = e.Server.Client().Do(req)
	if err != nil {
		e.T.Fatalf("download request: %v", err)
	}
	defer res.Body.Close()
	body, err = io.ReadAll(res.Body)
	return res, body, err
}
