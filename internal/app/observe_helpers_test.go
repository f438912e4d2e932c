package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/healthmed/healthmed/internal/apptest"
)

const (
	createSlotsOp = `mutation($in: [SlotInput!]!) { createSlots(input: $in) { id } }`
	bookNamedOp   = `mutation Book($slot: ID!) { bookAppointment(slotId: $slot) { id status } }`
	whoAmIOp      = `query WhoAmI { viewer { __typename } }`
	agendaSubOp   = `subscription Agenda { agendaUpdated { id kind } }`
)

func createSlot(t *testing.T, env *apptest.Env, doctor string, hour int) string {
	t.Helper()
	d := time.Now().UTC().AddDate(0, 0, 2)
	start := time.Date(d.Year(), d.Month(), d.Day(), hour, 0, 0, 0, time.UTC)
	var out struct{ CreateSlots []struct{ ID string } }
	env.Do(doctor, createSlotsOp, map[string]any{"in": []any{map[string]any{
		"startsAt": start.Format(time.RFC3339), "endsAt": start.Add(50 * time.Minute).Format(time.RFC3339),
	}}}).Decode(t, &out)
	return out.CreateSlots[0].ID
}

// scrape is one read of a metrics endpoint.
type scrape map[string]*dto.MetricFamily

func scrapeURL(t *testing.T, url string) scrape {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, res.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parse metrics: %v", err)
	}
	return fams
}

// get returns the value of the series of name whose labels include the
// given name/value pairs: a counter's or gauge's value, a histogram's
// count. ok is false when there is no such series.
func (s scrape) get(name string, labels ...string) (v float64, ok bool) {
	f := s[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

// want fails unless the series has exactly the value.
func (s scrape) want(t *testing.T, value float64, name string, labels ...string) {
	t.Helper()
	got, ok := s.get(name, labels...)
	if !ok {
		t.Errorf("%s{%s}: no such series", name, strings.Join(labels, ","))
		return
	}
	if got != value {
		t.Errorf("%s{%s} = %v, want %v", name, strings.Join(labels, ","), got, value)
	}
}

// wantAtLeast fails unless the series is there with at least the value.
func (s scrape) wantAtLeast(t *testing.T, value float64, name string, labels ...string) {
	t.Helper()
	got, ok := s.get(name, labels...)
	if !ok || got < value {
		t.Errorf("%s{%s} = %v (present %v), want at least %v", name, strings.Join(labels, ","), got, ok, value)
	}
}

func (s scrape) wantAbsent(t *testing.T, name string, labels ...string) {
	t.Helper()
	if v, ok := s.get(name, labels...); ok {
		t.Errorf("%s{%s} = %v, want no such series", name, strings.Join(labels, ","), v)
	}
}
