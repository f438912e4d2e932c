// Package requestid carries the id the HTTP layer gives each request, so
// that log lines written anywhere below it name the request a client was
// told about.
package requestid

import "context"

type key struct{}

// NewContext returns ctx carrying id.
func NewContext(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, key{}, id)
}

// FromContext returns the id of the request ctx belongs to, or "".
func FromContext(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}
