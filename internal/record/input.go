package record

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/healthmed/healthmed/internal/gqlerr"
)

const (
	maxTitleRunes = 100
	maxTags       = 20
	maxTagRunes   = 40
	maxNameBytes  = 255
)

// cleanTitle trims a title and checks its length; the byte bound is the
// column's.
func cleanTitle(field, title string) (string, error) {
	t := strings.TrimSpace(title)
	switch {
	case t == "":
		return "", gqlerr.BadInput(field, "the title is required")
	case !utf8.ValidString(t) || strings.ContainsFunc(t, unicode.IsControl):
		return "", gqlerr.BadInput(field, "the title has characters that are not allowed")
	case utf8.RuneCountInString(t) > maxTitleRunes || len(t) > 200:
		return "", gqlerr.BadInput(field, "the title has at most %d characters", maxTitleRunes)
	}
	return t, nil
}

// cleanTags lower-cases, trims and de-duplicates tags: shares match tags
// exactly, so "Cardio" and "cardio " must be the same tag.
func cleanTags(field string, tags []string) ([]string, error) {
	out := make([]string, 0, len(tags))
	for _, tag := range tags {
		t, err := cleanTag(field, tag)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) > maxTags {
		return nil, gqlerr.BadInput(field, "at most %d tags", maxTags)
	}
	return out, nil
}

func cleanTag(field, tag string) (string, error) {
	t := strings.ToLower(strings.TrimSpace(tag))
	if t == "" || utf8.RuneCountInString(t) > maxTagRunes || !utf8.ValidString(t) ||
		strings.ContainsFunc(t, unicode.IsControl) {
		return "", gqlerr.BadInput(field, "a tag has 1 to %d characters", maxTagRunes)
	}
	return t, nil
}

// cleanFileName keeps the client's file name as metadata only (storage
// keys are random): the base name, without path separators, control or
// bidirectional-formatting characters (which can make "exe.pdf" display as
// "fdp.exe"), trimmed of dots and spaces, and short enough for the column
// with its extension kept.
func cleanFileName(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	name = strings.Trim(name, " .")
	if name == "" {
		return "file"
	}
	if len(name) <= maxNameBytes {
		return name
	}
	ext := ""
	if i := strings.LastIndexByte(name, '.'); i > 0 && len(name)-i <= 16 {
		name, ext = name[:i], name[i:]
	}
	name = name[:maxNameBytes-len(ext)]
	for !utf8.ValidString(name) {
		name = name[:len(name)-1]
	}
	return name + ext
}

// extensions are the file name extensions each accepted type is saved
// under, the usual one first. Only the sniffed type chooses: a browser or
// desktop opens a download by its extension, so "laudo.hta" holding text
// must reach the disk as text, not as an application.
var extensions = map[string][]string{
	"application/pdf":   {".pdf"},
	"image/png":         {".png"},
	"image/jpeg":        {".jpg", ".jpeg"},
	"application/dicom": {".dcm", ".dicom"},
	textPlain:           {".txt", ".text"},
}

// fileNameFor is the name a file is stored and served under: the client's
// name cleaned, with an extension of the type the bytes were sniffed as.
// A wrong last extension is dropped ("report.pdf.exe" becomes
// "report.pdf"), and the usual one added when what is left still does not
// fit ("page.html" holding text becomes "page.txt").
func fileNameFor(clientName, contentType string) string {
	exts := extensions[contentType]
	if len(exts) == 0 {
		// Not a type the record accepts; nothing stored has one.
		return cleanFileName(clientName)
	}
	fits := func(n string) bool {
		return slices.ContainsFunc(exts, func(e string) bool { return strings.HasSuffix(strings.ToLower(n), e) && len(n) > len(e) })
	}
	name := cleanFileName(clientName)
	if fits(name) {
		return name
	}
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		if stem := strings.TrimRight(name[:i], " ."); stem != "" {
			name = stem
			if fits(name) {
				return name
			}
		}
	}
	ext := exts[0]
	if len(name)+len(ext) > maxNameBytes {
		name = name[:maxNameBytes-len(ext)]
		for !utf8.ValidString(name) {
			name = name[:len(name)-1]
		}
	}
	return name + ext
}
