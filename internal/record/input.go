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
