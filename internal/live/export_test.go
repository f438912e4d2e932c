package live

import "time"

// SetPollEvery sets the hubs' safety-net poll for the hubs started until
// the returned func restores it.
func SetPollEvery(d time.Duration) (restore func()) {
	old := pollEvery
	pollEvery = d
	return func() { pollEvery = old }
}
