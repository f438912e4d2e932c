package workload

// The search of the targets: one specialty within 10 km of São Paulo's
// centre, first 20, with the distance; with and without the next free
// slot of each doctor.
const (
	SearchOp = `query($near: GeoPointInput, $km: Float, $s: String, $first: Int) {
  doctors(near: $near, withinKm: $km, specialty: $s, first: $first) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id name specialty priceCents rating distanceKm } }
  }
}`
	SearchNextFreeOp = `query($near: GeoPointInput, $km: Float, $s: String, $first: Int) {
  doctors(near: $near, withinKm: $km, specialty: $s, first: $first) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id name specialty priceCents rating distanceKm nextFreeSlot { id startsAt } } }
  }
}`
)

// SearchVars are the search's variables, a fresh map each call.
func SearchVars() map[string]any {
	return map[string]any{
		"near":  map[string]any{"lat": SaoPauloLat, "lng": SaoPauloLng},
		"km":    10.0,
		"s":     "Cardiology",
		"first": 20,
	}
}

// BookOp books one slot as the patient of the request's token.
const BookOp = `mutation($slot: ID!) { bookAppointment(slotId: $slot) { id status startsAt } }`
