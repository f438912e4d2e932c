package wsgorilla

import "testing"

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
