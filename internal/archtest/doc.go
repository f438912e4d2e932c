// Package archtest holds tests of the code's shape that no single package
// can check for itself: who may call what is declared in one place,
// services do not repeat the privacy rules' owner predicates, and the
// domain packages stand below the API.
package archtest
