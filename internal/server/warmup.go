package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"

	"github.com/healthmed/healthmed/internal/observe"
)

// SearchDoctorsOperation is the doctor search of the front ends' client
// package (clients/typescript, SearchDoctors; a test keeps the two the
// same): the shape most searches arrive in, which WarmUp answers first.
const SearchDoctorsOperation = `query SearchDoctors($near: GeoPointInput, $withinKm: Float, $specialty: String, $minRating: Float, $first: Int, $after: Cursor) {
  doctors(near: $near, withinKm: $withinKm, specialty: $specialty, minRating: $minRating, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id
        name
        specialty
        priceCents
        timezone
        rating
        ratingCount
        distanceKm
        location { lat lng }
        nextFreeSlot { id startsAt endsAt }
      }
    }
  }
}
`

// WarmUpRequests are the GraphQL requests a replica answers itself before
// it listens: the client package's search, by a specialty of the
// catalogue and by distance alone, around São Paulo. Anonymous and
// read-only, they change nothing.
func WarmUpRequests() [][]byte {
	near := `{"lat": -23.5505, "lng": -46.6333}`
	return [][]byte{
		warmUpBody(`{"near": ` + near + `, "withinKm": 10, "specialty": "Cardiologia", "first": 20}`),
		warmUpBody(`{"near": ` + near + `, "withinKm": 10, "first": 20}`),
	}
}

func warmUpBody(vars string) []byte {
	b, err := json.Marshal(map[string]any{"query": SearchDoctorsOperation, "variables": json.RawMessage(vars)})
	if err != nil {
		panic(err) // constant input
	}
	return b
}

// WarmUp answers each of requests rounds times from clients at once
// through h, the replica's own handler, before it listens. A replica's
// first searches otherwise pay for everything the process and each of
// its pool's backends do once: each statement's preparation and plan on
// each connection, the catalogue's cache, the heap's first growth. A new
// replica at 500 searches/s answered its first second at a p95 of
// 120-250 ms and refused 1-15% of it (the queue's 100 ms wait ran out),
// against 6-15 ms a second later. clients is best the number of requests
// the replica runs at once (HEALTHMED_MAX_IN_FLIGHT), so each round puts
// that many pool connections to work. The warm-up's requests are not
// logged, counted or limited (observe.WarmUp). It returns how many were
// answered without an error; a failure costs only the latency it would
// have saved.
func WarmUp(ctx context.Context, h http.Handler, requests [][]byte, clients, rounds int) (int, error) {
	var (
		wg       sync.WaitGroup
		answered atomic.Int64
		mu       sync.Mutex
		first    error
	)
	ctx = observe.WarmUp(ctx)
	for range clients {
		wg.Go(func() {
			for range rounds {
				for _, body := range requests {
					if err := warmUpOnce(ctx, h, body); err != nil {
						mu.Lock()
						if first == nil {
							first = err
						}
						mu.Unlock()
						continue
					}
					answered.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return int(answered.Load()), first
}

func warmUpOnce(ctx context.Context, h http.Handler, body []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/graphql", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.RemoteAddr = "127.0.0.1:0"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK || bytes.Contains(w.Body.Bytes(), []byte(`"errors"`)) {
		return fmt.Errorf("warm-up search: HTTP %d: %s", w.Code, bytes.TrimSpace(w.Body.Bytes()))
	}
	return nil
}
