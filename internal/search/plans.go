package search

// genericPlans reports whether the search's statements may run on their
// prepared generic plans (db.GenericPlans), planned once per connection
// rather than at every search. Only the shapes whose generic plans the
// plan tests of bench check qualify: nearest first, by a catalogue
// specialty, a radius and a minimum rating, with its count and its
// doctors' next free slots; best rated first and soonest free slot
// first without filters. Any other filter keeps planning for its
// arguments: a name prefix cannot use its index in a generic plan, and
// the others' generic plans are not checked. legacyText is a specialty
// name the catalogue does not know, matched against the doctors' text.
func (a DoctorArgs) genericPlans(legacyText bool) bool {
	if a.Name != nil || a.City != nil || a.State != nil || a.Mode != nil ||
		a.MinPriceCents != nil || a.MaxPriceCents != nil || a.FreeBefore != nil || legacyText ||
		(a.Specialty != nil && a.SpecialtyCode != nil) {
		return false
	}
	if a.OrderBy == nil || *a.OrderBy == OrderDistance {
		return a.Near != nil
	}
	return a.Near == nil && a.Specialty == nil && a.SpecialtyCode == nil && a.MinRating == nil && !a.CountTotal
}
