package search

import (
	"fmt"
	"io"
	"strconv"
)

// Order is how the doctors' search orders its results.
type Order string

const (
	// OrderDistance is nearest first; it needs a point.
	OrderDistance Order = "DISTANCE"
	// OrderRating is best rated first by RatingScore.
	OrderRating Order = "RATING"
	// OrderNextFreeSlot is the soonest free slot first.
	OrderNextFreeSlot Order = "NEXT_FREE_SLOT"
)

func (o Order) valid() bool { return o == OrderDistance || o == OrderRating || o == OrderNextFreeSlot }

// MarshalGQL writes the order as its enum value.
func (o Order) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(o))) }

// UnmarshalGQL reads an enum value.
func (o *Order) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok || !Order(s).valid() {
		return fmt.Errorf("%v is not a DoctorOrder", v)
	}
	*o = Order(s)
	return nil
}
