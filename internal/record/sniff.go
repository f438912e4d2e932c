package record

import (
	"bytes"
	"errors"
	"unicode/utf8"
)

// sniffLen is how much of a file sniffing reads: enough for DICOM's
// 128-byte preamble and its "DICM" marker, and a fair sample of text.
const sniffLen = 512

const textPlain = "text/plain; charset=utf-8"

// sniff names the type of a file from its first bytes, or returns "" for
// any type the record does not accept. The client's Content-Type and file
// name are never trusted: an executable renamed report.pdf is refused here.
// complete says head is the whole file, so a multi-byte character cut at
// its end is an error rather than the edge of the sample.
func sniff(head []byte, complete bool) string {
	switch {
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return "application/pdf"
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(head, []byte("\xff\xd8\xff")):
		return "image/jpeg"
	case len(head) >= 132 && string(head[128:132]) == "DICM":
		return "application/dicom"
	}
	t := textChecker{}
	if _, err := t.Write(head); err == nil && (!complete || t.Close() == nil) {
		return textPlain
	}
	return ""
}

var errNotText = errors.New("not UTF-8 text")

// textChecker checks, as the bytes stream past, that a file sniffed as
// text is UTF-8 text throughout: without it, a text-looking first 512
// bytes could carry any binary behind them.
type textChecker struct{ pending []byte }

func (t *textChecker) Write(p []byte) (int, error) {
	b := p
	if len(t.pending) > 0 {
		b = append(t.pending, p...)
		t.pending = nil
	}
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			// A rune cut at the end of this write may complete in the next.
			if !utf8.FullRune(b) {
				t.pending = append([]byte{}, b...)
				return len(p), nil
			}
			return 0, errNotText
		}
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f' || r == 0x7f {
			return 0, errNotText
		}
		b = b[size:]
	}
	return len(p), nil
}

// Close reports a rune left incomplete at the end of the file.
func (t *textChecker) Close() error {
	if len(t.pending) > 0 {
		return errNotText
	}
	return nil
}
