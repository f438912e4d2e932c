package server

import (
	"net/http"

	"github.com/healthmed/healthmed/internal/server/ide"
)

// mountIDE serves the GraphQL IDE (development only) at / with its
// scripts and styles under /ide/, all from the binary.
func mountIDE(mux *http.ServeMux) {
	h, err := ide.New()
	if err != nil {
		// The files are embedded at build time: a tree that builds has them.
		panic(err)
	}
	mux.Handle("GET /{$}", h)
	mux.Handle("GET "+ide.Prefix, h)
}
