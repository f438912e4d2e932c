// Package auth holds the security primitives of the server: password
// hashing, the keys and issuer of the server's own access tokens, the
// verifier every bearer token goes through (own or from one external
// OpenID Connect provider) and login throttling.
//
// Nothing here knows about doctors or patients as records; the identity
// package maps what this package proves to rows in the database.
package auth
