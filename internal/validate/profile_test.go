package validate

import (
	"testing"
	"time"
)

func TestPhone(t *testing.T) {
	for in, want := range map[string]string{
		"+5511912345678":      "+5511912345678",
		"+55 (11) 91234-5678": "+5511912345678",
		" +1.415.555.0100 ":   "+14155550100",
		"11912345678":         "",
		"+0511912345678":      "",
		"+55":                 "",
		"+5511912345678901":   "",
		"+55 11 9abc":         "",
		"++5511912345678":     "",
		"":                    "",
	} {
		got, err := Phone(in)
		if got != want || (err != nil) != (want == "") {
			t.Errorf("Phone(%q) = %q, %v; want %q", in, got, err, want)
		}
		if err != nil && err.(*FieldError).Field != "phone" {
			t.Errorf("Phone(%q) names field %q", in, err.(*FieldError).Field)
		}
	}
}

func TestPostalCode(t *testing.T) {
	for in, want := range map[string]string{
		"01310-100":  "01310-100",
		"01310100":   "01310-100",
		"0131-0100":  "",
		"01310-10":   "",
		"0131O-100":  "",
		"01310--100": "",
		"":           "",
	} {
		got, err := PostalCode(in)
		if got != want || (err != nil) != (want == "") {
			t.Errorf("PostalCode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestStateAndLanguage(t *testing.T) {
	if s, err := State(" sp "); s != "SP" || err != nil {
		t.Errorf("State(sp) = %q, %v", s, err)
	}
	if _, err := State("XX"); err == nil {
		t.Error("State(XX) accepted")
	}
	for in, want := range map[string]string{
		"pt-br": "pt-BR", "EN": "en", "zh-hant": "zh-Hant", "fil": "fil",
		"portuguese": "", "pt-BR-x": "", "p": "", "pt_BR": "", "pt-1": "", "": "",
	} {
		got, err := Language(in)
		if got != want || (err != nil) != (want == "") {
			t.Errorf("Language(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestBirthDate(t *testing.T) {
	today := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	for in, ok := range map[string]bool{
		"1980-05-31": true, "2026-12-04": true, "2026-12-05": false,
		"1896-12-04": true, "1896-12-03": false, "1980-02-30": false, "31/05/1980": false,
	} {
		if _, err := BirthDate(in, today); (err == nil) != ok {
			t.Errorf("BirthDate(%q): %v, want ok=%v", in, err, ok)
		}
	}
}

// FuzzProfileFields: every profile validator either refuses its input or
// returns a canonical form it accepts again unchanged.
func FuzzProfileFields(f *testing.F) {
	for _, s := range []string{"+55 (11) 91234-5678", "01310-100", "01310100", "sp", "pt-br", "zh-hant", "", "+", "-", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, check := range map[string]func(string) (string, error){
			"Phone": Phone, "PostalCode": PostalCode, "State": State, "Language": Language,
		} {
			out, err := check(s)
			if err != nil {
				continue
			}
			again, err := check(out)
			if err != nil || again != out {
				t.Fatalf("%s(%q) = %q, which gives %q, %v", name, s, out, again, err)
			}
		}
	})
}
