package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"time"
)

type client struct {
	base string
	http *http.Client
}

func newClient(base string) *client {
	return &client{base: base, http: &http.Client{Timeout: 40 * time.Second}}
}

func (c *client) ready() bool {
	res, err := c.http.Get(c.base + "/readyz")
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// answer summarises a response as its status and first error code.
func answer(res *http.Response, err error) (string, error) {
	if err != nil {
		return "no answer", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return fmt.Sprint(res.StatusCode), err
	}
	var out struct {
		Errors []struct {
			Extensions struct {
				Code string `json:"code"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if json.Unmarshal(b, &out) != nil {
		return fmt.Sprintf("%d (not JSON)", res.StatusCode), nil
	}
	if len(out.Errors) == 0 {
		return fmt.Sprintf("%d data", res.StatusCode), nil
	}
	code := out.Errors[0].Extensions.Code
	if code == "" {
		code = "no code"
	}
	return fmt.Sprintf("%d %s", res.StatusCode, code), nil
}

func (c *client) postBody(token string, body []byte) (string, error) {
	req, _ := http.NewRequest(http.MethodPost, c.base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return answer(c.http.Do(req))
}

func (c *client) post(token, query string, vars map[string]any) (string, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return c.postBody(token, body)
}

// data runs an operation that must succeed and decodes its data.
func (c *client) data(token, query string, vars map[string]any, v any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, c.base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var out struct {
		Data   json.RawMessage `json:"data"`
		Errors []json.RawMessage
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return err
	}
	if len(out.Errors) > 0 {
		return fmt.Errorf("%s", out.Errors[0])
	}
	return json.Unmarshal(out.Data, v)
}

// multipartBody is a GraphQL multipart request: operations, map, then
// the files, each of size bytes.
func multipartBody(operations, fileMap string, files int, size int) (string, io.Reader) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		_ = mw.WriteField("operations", operations)
		_ = mw.WriteField("map", fileMap)
		chunk := make([]byte, 64<<10)
		for i := 0; i < files; i++ {
			fw, err := mw.CreateFormFile(fmt.Sprint(i), fmt.Sprintf("f%d.pdf", i))
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			for left := size; left > 0; left -= len(chunk) {
				if _, err := fw.Write(chunk[:min(left, len(chunk))]); err != nil {
					pw.CloseWithError(err)
					return
				}
			}
		}
		pw.CloseWithError(mw.Close())
	}()
	return mw.FormDataContentType(), pr
}

func (c *client) postMultipart(token, contentType string, body io.Reader) (string, error) {
	req, _ := http.NewRequest(http.MethodPost, c.base+"/graphql", body)
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return answer(c.http.Do(req))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
