package graph_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/app"
	"github.com/healthmed/healthmed/internal/apptest"
)

const rateOp = `mutation($id: ID!, $s: Int!, $c: String) { rateAppointment(id: $id, stars: $s, comment: $c) { stars comment } }`

// clock is a wall clock a test can move forward.
type clock struct {
	mu    sync.Mutex
	shift time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.shift)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.shift += d
	c.mu.Unlock()
}

func TestRatingsFeedTheAverageOncePerAppointment(t *testing.T) {
	clk := &clock{}
	env := apptest.New(t, apptest.Unthrottled(), apptest.WithApp(app.WithClock(clk.now)))
	doc, _ := env.Doctor("Dr. Rated", "Dermatology", -23.55, -46.63)
	other, _, _ := env.Patient("Other")
	const n = 4
	pats := make([]string, n)
	appts := make([]string, n)
	for i := range pats {
		pats[i] = env.PatientToken(t, fmt.Sprintf("Rater %d", i))
		appts[i] = book(t, env, pats[i], createSlot(t, env, doc, tomorrowAt(8+i), 30))
		env.Do(doc, acceptOp, map[string]any{"id": appts[i]}).Decode(t, &struct{}{})
	}
	// Nobody has rated the doctor yet: rating is null, not a 0.
	var before searchPage
	env.Do("", searchOp, map[string]any{"sp": "Dermatology"}).Decode(t, &before)
	if len(before.Doctors.Edges) != 1 || before.Doctors.Edges[0].Node.Rating != nil {
		t.Fatalf("rating before any rating: %+v", before.Doctors.Edges)
	}
	// Not completed yet: no rating.
	if r := env.Do(pats[0], rateOp, map[string]any{"id": appts[0], "s": 5}); r.Code() != "CONFLICT" || r.Ext("reason") != "INVALID_TRANSITION" {
		t.Fatalf("rating before completion: %q %q", r.Code(), r.Ext("reason"))
	}
	clk.advance(3 * 24 * time.Hour)
	for _, id := range appts {
		env.Do(doc, completeOp, map[string]any{"id": id}).Decode(t, &struct{}{})
	}
	cases := []struct {
		name, token, id string
		stars           int
		code            string
	}{
		{"six stars", pats[0], appts[0], 6, "BAD_USER_INPUT"},
		{"zero stars", pats[0], appts[0], 0, "BAD_USER_INPUT"},
		{"someone else's appointment", other, appts[0], 5, "NOT_FOUND"},
		{"the doctor", doc, appts[0], 5, "FORBIDDEN"},
	}
	for _, tc := range cases {
		if r := env.Do(tc.token, rateOp, map[string]any{"id": tc.id, "s": tc.stars}); r.Code() != tc.code {
			t.Fatalf("%s: code %q, want %q", tc.name, r.Code(), tc.code)
		}
	}
	// Four patients rate at once: 5, 4, 3, 4 -> 4.0 over 4 ratings.
	stars := []int{5, 4, 3, 4}
	var wg sync.WaitGroup
	for i := range pats {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if r := env.Do(pats[i], rateOp, map[string]any{"id": appts[i], "s": stars[i], "c": "ok"}); r.Code() != "" {
				t.Errorf("rating %d: %+v", i, r.Errors)
			}
		}(i)
	}
	wg.Wait()
	if r := env.Do(pats[0], rateOp, map[string]any{"id": appts[0], "s": 1}); r.Code() != "CONFLICT" || r.Ext("reason") != "ALREADY_RATED" {
		t.Fatalf("second rating: %q %q", r.Code(), r.Ext("reason"))
	}
	var p searchPage
	env.Do("", searchOp, map[string]any{"sp": "Dermatology", "min": 4.0}).Decode(t, &p)
	if len(p.Doctors.Edges) != 1 || p.Doctors.Edges[0].Node.Rating == nil || *p.Doctors.Edges[0].Node.Rating != 4.0 {
		t.Fatalf("after ratings: %+v", p.Doctors.Edges)
	}
	env.Do("", searchOp, map[string]any{"sp": "Dermatology", "min": 4.1}).Decode(t, &p)
	if len(p.Doctors.Edges) != 0 {
		t.Fatalf("minRating 4.1 still finds the 4.0 doctor")
	}
}
