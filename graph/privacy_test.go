package graph_test

import (
	"testing"

	"github.com/healthmed/healthmed/internal/apptest"
)

const (
	nodePatientOp = `query($id: ID!) { node(id: $id) { id ... on Patient { name email } } }`
	nodesOp       = `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`
	nodeDoctorOp  = `query($id: ID!) { node(id: $id) { id ... on Doctor { name specialty crm } } }`
	myIDOp        = `{ viewer { ... on Patient { id } ... on Doctor { id } } }`
)

func viewerID(t *testing.T, env *apptest.Env, token string) string {
	t.Helper()
	var out struct{ Viewer struct{ ID string } }
	env.Do(token, myIDOp, nil).Decode(t, &out)
	if out.Viewer.ID == "" {
		t.Fatal("viewer has no id")
	}
	return out.Viewer.ID
}

func TestPatientIsPrivateToThemself(t *testing.T) {
	env := apptest.New(t)
	alice, _, _ := env.Patient("Alice")
	bob, _, _ := env.Patient("Bob")
	doc, _ := env.Doctor("Dr. Who", "Cardiology", -23.5, -46.6)
	aliceID := viewerID(t, env, alice)

	// The owner reads herself.
	var own struct{ Node struct{ Name string } }
	env.Do(alice, nodePatientOp, map[string]any{"id": aliceID}).Decode(t, &own)
	if own.Node.Name != "Alice" {
		t.Fatalf("owner reads %+v", own.Node)
	}
	for name, token := range map[string]string{"other patient": bob, "unrelated doctor": doc, "anonymous": ""} {
		t.Run(name, func(t *testing.T) {
			r := env.Do(token, nodePatientOp, map[string]any{"id": aliceID})
			if r.Code() != "NOT_FOUND" {
				t.Fatalf("node: code %q, data %s", r.Code(), r.Data)
			}
			r = env.Do(token, nodesOp, map[string]any{"ids": []string{aliceID}})
			if r.Code() != "NOT_FOUND" {
				t.Fatalf("nodes: code %q, data %s", r.Code(), r.Data)
			}
		})
	}
	// A missing id reads exactly like a forbidden one.
	missing := env.Do(bob, nodePatientOp, map[string]any{"id": "12884999999"})
	forbidden := env.Do(bob, nodePatientOp, map[string]any{"id": aliceID})
	if missing.Code() != forbidden.Code() || missing.Errors[0].Message != forbidden.Errors[0].Message {
		t.Fatalf("missing %+v differs from forbidden %+v", missing.Errors, forbidden.Errors)
	}
}

func TestDoctorProfileIsPublic(t *testing.T) {
	env := apptest.New(t)
	doc, crm := env.Doctor("Dr. Public", "Dermatology", -22.9, -43.2)
	id := viewerID(t, env, doc)
	var out struct {
		Node struct{ Name, Specialty, Crm string }
	}
	env.Do("", nodeDoctorOp, map[string]any{"id": id}).Decode(t, &out)
	if out.Node.Name != "Dr. Public" || out.Node.Crm != crm {
		t.Fatalf("public profile = %+v", out.Node)
	}
}
