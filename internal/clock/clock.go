// Package clock reads the time services are given, or the system's.
package clock

import "time"

// UTC returns now() in UTC, or the system time when now is nil: services
// take an optional clock so that tests can move time.
func UTC(now func() time.Time) time.Time {
	if now != nil {
		return now().UTC()
	}
	return time.Now().UTC()
}
