package wsgorilla

import (
	"encoding/json"
	"testing"
)

// Only gqlgen's own code-less answer is caught; the same words anywhere
// else (an event's data, an error with a code) go out as they are.
func TestCodelessInvalidJSONIsOnlyGqlgensAnswer(t *testing.T) {
	for frame, want := range map[string]bool{
		`{"type":"error","id":"1","payload":[{"message":"invalid json"}]}`:                            true,
		`{"type":"error","id":"1","payload":{"message":"invalid json"}}`:                              true,
		`{"type":"next","id":"1","payload":{"data":{"bio":"invalid json"}}}`:                          false,
		`{"type":"error","id":"1","payload":[{"message":"invalid json","extensions":{"code":"X"}}]}`:  false,
		`{"type":"error","id":"1","payload":[{"message":"invalid json"},{"message":"invalid json"}]}`: false,
		`{"type":"error","id":"1","payload":[{"message":"invalid json","path":["agendaUpdated"]}]}`:   false,
		`{"type":"error","id":"1","payload":[{"message":"not allowed"}]}`:                             false,
	} {
		if got := codelessInvalidJSON([]byte(frame)); got != want {
			t.Errorf("%s: %v, want %v", frame, got, want)
		}
	}
}

// A legacy connection_error gains the extensions the server gives for its
// message; every other frame, and one that already has extensions, goes
// out as it is.
func TestConnectionErrorGainsExtensions(t *testing.T) {
	ext := func(msg string) map[string]any { return map[string]any{"code": "C:" + msg} }
	for frame, want := range map[string]string{
		`{"payload":{"message":"missing token"},"type":"connection_error"}`:               `{"payload":{"extensions":{"code":"C:missing token"},"message":"missing token"},"type":"connection_error"}`,
		`{"payload":{"message":"x","extensions":{"code":"K"}},"type":"connection_error"}`: `{"payload":{"message":"x","extensions":{"code":"K"}},"type":"connection_error"}`,
		`{"payload":{"data":{"bio":"connection_error"}},"id":"1","type":"data"}`:          `{"payload":{"data":{"bio":"connection_error"}},"id":"1","type":"data"}`,
		`{"payload":"connection_error","type":"connection_error"}`:                        `{"payload":"connection_error","type":"connection_error"}`,
	} {
		got := string(withConnectionErrorCode([]byte(frame), ext))
		if got != want {
			t.Errorf("%s:\n got %s\nwant %s", frame, got, want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("%s: not JSON", got)
		}
	}
}
