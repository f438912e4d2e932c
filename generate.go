// Package healthmed holds the single code-generation entry point: Ent first
// (models, privacy, GraphQL schema for the models), then gqlgen.
package healthmed

//go:generate go run -mod=mod ./entc.go
//go:generate go run -mod=mod github.com/99designs/gqlgen generate
