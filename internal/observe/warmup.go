package observe

import "context"

type warmUpKey struct{}

// WarmUp marks ctx's requests as the replica's own warm-up before it
// listens (server.WarmUp): they are neither logged, counted nor traced,
// and no client's limits pay for them. Only the process can make such a
// context, so no client can keep its requests out of the record.
func WarmUp(ctx context.Context) context.Context {
	return context.WithValue(ctx, warmUpKey{}, true)
}

// IsWarmUp reports whether ctx was made by WarmUp.
func IsWarmUp(ctx context.Context) bool {
	v, _ := ctx.Value(warmUpKey{}).(bool)
	return v
}
