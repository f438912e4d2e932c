package graph_test

import (
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/graph"
	"github.com/healthmed/healthmed/graph/generated"
	"github.com/healthmed/healthmed/internal/apptest"
)

// TestEveryRootFieldDeclaresItsCallers: each query, mutation and
// subscription says who may call it (@hasRole) or that anyone may
// (@public), so a new operation cannot be added without deciding.
func TestEveryRootFieldDeclaresItsCallers(t *testing.T) {
	s := generated.NewExecutableSchema(generated.Config{Directives: graph.Directives()}).Schema()
	for _, root := range []string{"Query", "Mutation", "Subscription"} {
		def := s.Types[root]
		if def == nil {
			t.Fatalf("no %s type", root)
		}
		for _, f := range def.Fields {
			if len(f.Name) > 1 && f.Name[:2] == "__" {
				continue // introspection, gated by the server's mode
			}
			role, public := f.Directives.ForName("hasRole"), f.Directives.ForName("public")
			switch {
			case role == nil && public == nil:
				t.Errorf("%s.%s declares neither @hasRole nor @public", root, f.Name)
			case role != nil && public != nil:
				t.Errorf("%s.%s declares both @hasRole and @public", root, f.Name)
			case role != nil && len(role.Arguments.ForName("roles").Value.Children) == 0:
				t.Errorf("%s.%s: @hasRole names no role", root, f.Name)
			}
		}
	}
}

// TestSubscriptionsCheckTheirCallers: @hasRole runs before a subscription
// starts, as before a query: each side's stream is refused to the other.
func TestSubscriptionsCheckTheirCallers(t *testing.T) {
	env := apptest.New(t)
	doc, _ := env.Doctor("Dr. Stream", "Cardiology", -23.5, -46.6)
	pat, _, _ := env.Patient("Pat Stream")
	for _, tc := range []struct{ name, token, query string }{
		{"patient on agendaUpdated", pat, agendaSub},
		{"doctor on appointmentUpdated", doc, apptUpdatedSub},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := env.Connect(t, apptest.TransportWS, tc.token)
			defer w.Close()
			w.Subscribe("s", tc.query, nil)
			m, err := w.Next(5 * time.Second)
			// A refusal at subscribe time is the stream's one result,
			// like any resolver error, with no data.
			if err != nil || m.ID != "s" || !strings.Contains(string(m.Payload), `"code":"FORBIDDEN"`) ||
				!strings.Contains(string(m.Payload), `"data":null`) {
				t.Fatalf("got %+v %s (err %v), want a FORBIDDEN error", m, m.Payload, err)
			}
		})
	}
}
