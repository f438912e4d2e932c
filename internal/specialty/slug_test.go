package specialty

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Cirurgia de Cabeça e Pescoço":            "cirurgia-de-cabeca-e-pescoco",
		"Patologia Clínica/Medicina Laboratorial": "patologia-clinica-medicina-laboratorial",
		"  Medicina do   Sono ":                   "medicina-do-sono",
		"Ñandú 2":                                 "nandu-2",
		"日本":                                      "",
	} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzSlug: whatever an admin types as a name, the code made from it is
// empty (then refused) or a well-formed code.
func FuzzSlug(f *testing.F) {
	f.Add("Medicina de Família e Comunidade")
	f.Add("--a--b--")
	f.Add("\u0301a\u0301")
	f.Fuzz(func(t *testing.T, name string) {
		s := Slug(name)
		if s != "" && !codeRE.MatchString(s) {
			t.Fatalf("Slug(%q) = %q", name, s)
		}
		if utf8.ValidString(name) && strings.ContainsAny(name, "abc") && s == "" {
			t.Fatalf("Slug(%q) lost its letters", name)
		}
	})
}
