package profile

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/healthmed/healthmed/internal/gqlerr"
)

// picture encodes a w×h image in format ("png" or "jpg").
func picture(t testing.TB, format string, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		img.Set(x, x%h, color.RGBA{200, 30, 30, 255})
	}
	var b bytes.Buffer
	var err error
	if format == "png" {
		err = png.Encode(&b, img)
	} else {
		err = jpeg.Encode(&b, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDecodePhoto(t *testing.T) {
	// A JPEG with an APP1 (Exif) segment after its start: where a
	// phone writes the place a photo was taken.
	exif := picture(t, "jpg", 100, 100)
	exif = append(append(append([]byte{}, exif[:2]...), append([]byte{0xff, 0xe1, 0x00, 0x10}, []byte("Exif\x00\x00GPS-HERE")...)...), exif[2:]...)
	for _, tc := range []struct {
		name string
		in   []byte
		ext  string
	}{
		{"png", picture(t, "png", 200, 120), "png"},
		{"jpeg", picture(t, "jpg", 64, 2048), "jpg"},
		{"jpeg with exif", exif, "jpg"},
		{"gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), ""},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), ""},
		{"too small", picture(t, "png", 63, 100), ""},
		{"too wide", picture(t, "png", 2049, 64), ""},
		{"png header, garbage after", append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 100)...), ""},
		{"truncated jpeg", picture(t, "jpg", 300, 300)[:400], ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := decodePhoto(tc.in)
			if tc.ext == "" {
				if e, ok := err.(*gqlerr.Error); !ok || e.Code != gqlerr.BadUserInput || e.Field != "file" {
					t.Fatalf("accepted or wrong error: %v", err)
				}
				return
			}
			if err != nil || p.ext != tc.ext {
				t.Fatalf("ext %q err %v", p.ext, err)
			}
			if bytes.Contains(p.data, []byte("GPS-HERE")) {
				t.Fatal("the stored photo keeps the original's metadata")
			}
			if _, _, err := image.Decode(bytes.NewReader(p.data)); err != nil {
				t.Fatalf("the re-encoded photo does not decode: %v", err)
			}
		})
	}
}

// FuzzDecodePhoto: whatever bytes a doctor uploads, decoding never panics
// and what it accepts is a JPEG or PNG within the bounds.
func FuzzDecodePhoto(f *testing.F) {
	f.Add(picture(f, "png", 64, 64))
	f.Add(picture(f, "jpg", 80, 64))
	f.Add([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x7f\xff\xff\xff\x7f\xff\xff\xff\x08\x02\x00\x00\x00"))
	f.Add([]byte("\xff\xd8\xff\xc0\x00\x11\x08\xff\xff\xff\xff\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := decodePhoto(data)
		if err != nil {
			return
		}
		var cfg image.Config
		if p.ext == "png" {
			cfg, err = png.DecodeConfig(bytes.NewReader(p.data))
		} else {
			cfg, err = jpeg.DecodeConfig(bytes.NewReader(p.data))
		}
		if err != nil || cfg.Width < minPhotoSide || cfg.Height < minPhotoSide ||
			cfg.Width > maxPhotoSide || cfg.Height > maxPhotoSide {
			t.Fatalf("accepted %s %dx%d: %v", p.ext, cfg.Width, cfg.Height, err)
		}
	})
}
