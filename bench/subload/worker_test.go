package main

import "testing"

// Every patient token is used by exactly one socket, and the patients
// of a client process split between the replicas as evenly as the
// screens: the targeted figures are measured on both sides.
func TestPatientAtSpreadsPatientsOverBothReplicas(t *testing.T) {
	for _, c := range []struct{ first, conns, patients int }{
		{0, 250, 25}, {250, 250, 25}, {0, 1000, 100}, {1000, 1000, 100}, {0, 5000, 500},
		{0, 10, 5}, {1, 10, 5}, {0, 7, 3}, {0, 3, 3}, {0, 1, 1}, {0, 100, 0},
	} {
		w := &worker{f: workerFlags{first: c.first, conns: c.conns, patients: c.patients}}
		seen := map[int]bool{}
		var perReplica [2]int
		for i := range c.conns {
			p, ok := w.patientAt(i)
			if !ok {
				continue
			}
			if seen[p] || p < 0 || p >= c.patients {
				t.Fatalf("%+v: connection %d is patient %d again or out of range", c, i, p)
			}
			seen[p] = true
			perReplica[(c.first+i)%2]++
		}
		if len(seen) != c.patients {
			t.Fatalf("%+v: %d patients placed", c, len(seen))
		}
		if d := perReplica[0] - perReplica[1]; d < -1 || d > 1 {
			t.Fatalf("%+v: %d patients on A, %d on B", c, perReplica[0], perReplica[1])
		}
	}
}
