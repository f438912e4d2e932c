// Package bench holds the load benchmarks (doctor search, booking under
// contention) and the query-plan guard of the doctor search.
//
// Raw SQL is only used for seeding (package workload's COPY of the
// doctors, ANALYZE) and, in the plan test, to EXPLAIN the very statements
// the server generated.
// Every measured operation goes through the real HTTP handler and GraphQL,
// Ent and its privacy rules, as a client would see them.
//
// This machine's speed drifts by up to a third between runs a minute
// apart, so a change's effect on CPU per search is measured with
// TestSearchAB (HEALTHMED_BENCH_AB=old,new: two server binaries in
// alternating closed loops), not by comparing two TestSearchLoad runs.
package bench
