package record

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestCleanFileNameKeepsABaseNameOnly(t *testing.T) {
	cases := map[string]string{
		"report.pdf":                      "report.pdf",
		"../../etc/passwd":                "passwd",
		`..\..\Windows\System32\evil.pdf`: "evil.pdf",
		"/abs/path/scan.png":              "scan.png",
		"..":                              "file",
		"":                                "file",
		"  .hidden. ":                     "hidden",
		"bad\x00name\r\n.pdf":             "badname.pdf",
		"exame\u202efdp.exe":              "examefdp.exe", // right-to-left override removed
		"laudo de exame – março.pdf":      "laudo de exame – março.pdf",
		"invalid\xffutf8.txt":             "invalidutf8.txt",
	}
	for in, want := range cases {
		if got := cleanFileName(in); got != want {
			t.Errorf("cleanFileName(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("ã", 300) + ".pdf"
	got := cleanFileName(long)
	if len(got) > maxNameBytes || !strings.HasSuffix(got, ".pdf") || strings.ContainsRune(got, '\uFFFD') {
		t.Fatalf("long name cut to %d bytes %q", len(got), got[len(got)-10:])
	}
}

func TestSniffAcceptsOnlyTheListedTypes(t *testing.T) {
	dicom := append(make([]byte, 128), []byte("DICM\x02\x00")...)
	cases := []struct {
		name string
		head []byte
		want string
	}{
		{"pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), "application/pdf"},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "image/png"},
		{"jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF"), "image/jpeg"},
		{"dicom", dicom, "application/dicom"},
		{"text", []byte("Hemograma completo\nHemoglobina: 14,2 g/dL\n"), textPlain},
		{"windows executable", []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00"), ""},
		{"elf", []byte("\x7fELF\x02\x01\x01"), ""},
		{"zip", []byte("PK\x03\x04\x14\x00"), ""},
		{"binary with a text-like start", []byte("hello\x00world"), ""},
		{"latin-1 text", []byte("press\xe3o arterial"), ""},
		{"dicom marker too early", []byte("DICM and then nothing"), textPlain},
	}
	for _, tc := range cases {
		if got := sniff(tc.head, true); got != tc.want {
			t.Errorf("%s: sniff = %q, want %q", tc.name, got, tc.want)
		}
	}
	// A multi-byte character cut by the end of the sample is fine, by the
	// end of the file is not.
	cut := []byte("ação")[:2]
	if sniff(cut, false) != textPlain || sniff(cut, true) != "" {
		t.Fatal("a character cut at the sample's edge is judged wrongly")
	}
}

func TestTextCheckerFollowsRunesAcrossWrites(t *testing.T) {
	data := []byte("coração ♥ saudável\n")
	for split := range len(data) {
		var c textChecker
		_, err1 := c.Write(data[:split])
		_, err2 := c.Write(data[split:])
		if err1 != nil || err2 != nil || c.Close() != nil {
			t.Fatalf("split at %d refused valid text", split)
		}
	}
	var c textChecker
	if _, err := c.Write([]byte("ok\xc3")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("(")); err == nil {
		t.Fatal("accepted an invalid continuation across writes")
	}
}

func TestTagsAndTitles(t *testing.T) {
	tags, err := cleanTags("tags", []string{" Cardio", "cardio", "EXAME de sangue"})
	if err != nil || len(tags) != 2 || tags[0] != "cardio" || tags[1] != "exame de sangue" {
		t.Fatalf("tags = %q, %v", tags, err)
	}
	for _, bad := range [][]string{{""}, {strings.Repeat("x", 41)}, {"a\tb"}, make([]string, 21)} {
		if _, err := cleanTags("tags", bad); err == nil {
			t.Errorf("accepted tags %q", bad)
		}
	}
	many := make([]string, 21)
	for i := range many {
		many[i] = strings.Repeat("t", i+1)
	}
	if _, err := cleanTags("tags", many); err == nil {
		t.Error("accepted 21 tags")
	}
	for _, bad := range []string{"", "   ", strings.Repeat("é", 101), "line\nbreak"} {
		if _, err := cleanTitle("title", bad); err == nil {
			t.Errorf("accepted title %q", bad)
		}
	}
	if got, err := cleanTitle("title", "  Raio-X do tórax "); err != nil || got != "Raio-X do tórax" {
		t.Fatalf("title = %q, %v", got, err)
	}
}

func TestFileNameForCarriesTheSniffedTypesExtension(t *testing.T) {
	for _, tc := range []struct{ client, typ, want string }{
		{"laudo.pdf", "application/pdf", "laudo.pdf"},
		{"Foto.PNG", "image/png", "Foto.PNG"},
		{"raio-x.jpeg", "image/jpeg", "raio-x.jpeg"},
		{"tomografia.dicom", "application/dicom", "tomografia.dicom"},
		{"notas.txt", textPlain, "notas.txt"},
		{"exame.hta", textPlain, "exame.txt"},
		{"script.js", textPlain, "script.txt"},
		{"run.bat", textPlain, "run.txt"},
		{"page.html", textPlain, "page.txt"},
		{"invoice.pdf.exe", "application/pdf", "invoice.pdf"},
		{"invoice.exe", "application/pdf", "invoice.pdf"},
		{"scan", "image/png", "scan.png"},
		{"notes.pdf", textPlain, "notes.txt"},
		{"x..hta", textPlain, "x.txt"},
		{".pdf", "application/pdf", "pdf.pdf"},
		{"", "image/jpeg", "file.jpg"},
		{"evil\u202efdp.exe", textPlain, "evilfdp.txt"},
	} {
		if got := fileNameFor(tc.client, tc.typ); got != tc.want {
			t.Errorf("fileNameFor(%q, %q) = %q, want %q", tc.client, tc.typ, got, tc.want)
		}
	}
	long := fileNameFor(strings.Repeat("ã", 200)+".hta", textPlain)
	if len(long) > maxNameBytes || !strings.HasSuffix(long, ".txt") || !utf8.ValidString(long) {
		t.Fatalf("long name %d bytes, ends %q", len(long), long[len(long)-8:])
	}
}

// FuzzFileNameFor: whatever name a client sends, the stored one is short
// valid UTF-8 without path separators, control or formatting characters,
// and ends in an extension of the sniffed type.
func FuzzFileNameFor(f *testing.F) {
	for _, s := range []string{"laudo.pdf", "page.html", "../../x.hta", "a\u202efdp.exe", "", ".", "x..", strings.Repeat("é", 300) + ".js", "\xff\xfe.bat"} {
		f.Add(s, 0)
		f.Add(s, 4)
	}
	types := []string{"application/pdf", "image/png", "image/jpeg", "application/dicom", textPlain}
	f.Fuzz(func(t *testing.T, name string, typ int) {
		ct := types[(typ%len(types)+len(types))%len(types)]
		got := fileNameFor(name, ct)
		if len(got) > maxNameBytes || !utf8.ValidString(got) || strings.ContainsAny(got, `/\`) ||
			strings.ContainsFunc(got, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) {
			t.Fatalf("fileNameFor(%q, %s) = %q", name, ct, got)
		}
		lower := strings.ToLower(got)
		if !slices.ContainsFunc(extensions[ct], func(e string) bool { return strings.HasSuffix(lower, e) && len(got) > len(e) }) {
			t.Fatalf("fileNameFor(%q, %s) = %q: not an extension of the type", name, ct, got)
		}
	})
}
