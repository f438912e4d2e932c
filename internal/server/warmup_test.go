package server_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/server"
)

// The warm-up answers every search it sends through the replica's whole
// handler, more of them than one address may send in a burst (60 under
// the production limit the test keeps), and none of them is logged.
func TestWarmUpAnswersEverySearchQuietly(t *testing.T) {
	env := apptest.New(t)
	env.Doctor("Dr. Warm", "Cardiology", -23.55, -46.63)
	reqs := server.WarmUpRequests()
	const clients, rounds = 4, 10
	logged := len(env.LogText())
	n, err := server.WarmUp(context.Background(), env.App.Handler, reqs, clients, rounds)
	if err != nil || n != clients*rounds*len(reqs) {
		t.Fatalf("answered %d of %d: %v", n, clients*rounds*len(reqs), err)
	}
	if logs := env.LogText()[logged:]; strings.Contains(logs, `"http request"`) {
		t.Fatalf("a warm-up request was logged:\n%s", logs)
	}
	// A client's request is logged as ever, with the address's limit
	// untouched by the warm-up's.
	r := env.Do("", server.SearchDoctorsOperation, map[string]any{
		"near": map[string]any{"lat": -23.55, "lng": -46.63}, "withinKm": 10, "specialty": "Cardiologia", "first": 20})
	if len(r.Errors) > 0 || !strings.Contains(string(r.Data), "Dr. Warm") {
		t.Fatalf("search after the warm-up: %s %+v", r.Data, r.Errors)
	}
	if !strings.Contains(env.LogText()[logged:], `"http request"`) {
		t.Fatal("a client's request was not logged")
	}
}

// A warm-up that cannot answer says why, and counts only what it did.
func TestWarmUpReportsFailures(t *testing.T) {
	env := apptest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n, err := server.WarmUp(ctx, env.App.Handler, server.WarmUpRequests(), 2, 1)
	if n != 0 || err == nil {
		t.Fatalf("answered %d, %v; want 0 and the context's error", n, err)
	}
	n, err = server.WarmUp(context.Background(), env.App.Handler, [][]byte{[]byte(`{"query": "{ nope }"}`)}, 2, 1)
	if n != 0 || err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("answered %d, %v; want 0 and the refusal", n, err)
	}
}

// The warm-up's search is the front ends' (the client package's
// SearchDoctors), so the statements it prepares are the ones they send.
func TestWarmUpSearchIsTheClientPackages(t *testing.T) {
	raw, err := os.ReadFile("../../clients/typescript/src/operations/doctors.graphql")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), server.SearchDoctorsOperation) {
		t.Fatalf("server.SearchDoctorsOperation is not the client package's SearchDoctors:\n%s", server.SearchDoctorsOperation)
	}
}
