package config

import (
	"fmt"
	"strconv"
	"time"
)

// positiveDuration and positiveInt are the parsers every part of the
// configuration uses, so a bad value reads the same wherever it is; each
// records its complaint in errs and the pass reports them all at once.
func positiveDuration(get func(key, def string) string, errs *[]error) func(key, def string) time.Duration {
	return func(key, def string) time.Duration {
		d, err := time.ParseDuration(get(key, def))
		if err != nil || d <= 0 {
			*errs = append(*errs, fmt.Errorf("%s: want a positive duration such as %q", key, def))
		}
		return d
	}
}

func positiveInt(get func(key, def string) string, errs *[]error) func(key, def string) int {
	return func(key, def string) int {
		n, err := strconv.Atoi(get(key, def))
		if err != nil || n <= 0 {
			*errs = append(*errs, fmt.Errorf("%s: want a positive integer", key))
		}
		return n
	}
}

// nonNegativeInt is positiveInt where 0 is allowed and means what zero
// says ("no limit").
func nonNegativeInt(get func(key, def string) string, errs *[]error) func(key, def, zero string) int {
	return func(key, def, zero string) int {
		n, err := strconv.Atoi(get(key, def))
		if err != nil || n < 0 {
			*errs = append(*errs, fmt.Errorf("%s: want a whole number, 0 for %s", key, zero))
		}
		return n
	}
}
