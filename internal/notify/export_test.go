package notify

import "time"

// SetAfterSend installs the hook that runs between the server's
// acceptance of a message and the SENT mark.
func SetAfterSend(w *Worker, f func(id int) error) { w.afterSend = f }

// Backoff exposes the retry wait.
func Backoff(w *Worker, attempt int) time.Duration { return w.backoff(attempt) }

// Content is what a message may say, for the composition tests.
type Content = content

// Compose exposes the composition of a message.
func Compose(c Content) (subject, body string) { return compose(c) }
