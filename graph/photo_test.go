package graph_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"testing"

	"github.com/healthmed/healthmed/internal/apptest"
)

const uploadPhotoOp = `mutation($file: Upload!) { uploadDoctorPhoto(file: $file) { id photoUrl } }`

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(1, 1, color.RGBA{1, 2, 3, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDoctorPhotoUpload(t *testing.T) {
	env := apptest.New(t)
	doc, _ := env.Doctor("Dr. Portrait", "Cardiology", -23.55, -46.63)
	pat, _, _ := env.Patient("Pat")
	upload := func(token string, f apptest.File) (string, apptest.Response) {
		r := env.Upload(token, uploadPhotoOp, map[string]any{"file": nil}, f)
		var out struct{ UploadDoctorPhoto struct{ PhotoURL string } }
		if r.Code() == "" {
			r.Decode(t, &out)
		}
		return out.UploadDoctorPhoto.PhotoURL, r
	}

	// The client's name and type count for nothing; the bytes decide.
	first, r := upload(doc, apptest.File{Name: "me.gif", ContentType: "image/gif", Content: pngOf(t, 300, 300)})
	if r.Code() != "" || first == "" {
		t.Fatalf("upload: %q %+v", first, r.Errors)
	}
	res, body, err := env.Download("", first)
	if err != nil || res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/png" ||
		res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Fatalf("GET %s: %v %d %v", first, err, res.StatusCode, res.Header)
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(body)); err != nil || cfg.Width != 300 {
		t.Fatalf("served photo: %v %+v", err, cfg)
	}
	var pub struct{ Node struct{ PhotoURL string } }
	env.Do(pat, publicDoctorOp, map[string]any{"id": viewerID(t, env, doc)}).Decode(t, &pub)
	if pub.Node.PhotoURL != first {
		t.Fatalf("the public profile shows %q", pub.Node.PhotoURL)
	}

	for _, tc := range []struct {
		name string
		f    apptest.File
		code string
	}{
		{"an executable named .png", apptest.File{Name: "me.png", ContentType: "image/png", Content: []byte("MZ\x90\x00\x03\x00\x00\x00")}, "BAD_USER_INPUT"},
		{"a thumbnail too small", apptest.File{Name: "me.png", Content: pngOf(t, 20, 20)}, "BAD_USER_INPUT"},
		{"a panorama too wide", apptest.File{Name: "me.png", Content: pngOf(t, 4000, 100)}, "BAD_USER_INPUT"},
		{"over 5 MiB", apptest.File{Name: "me.png", Content: append(pngOf(t, 100, 100), make([]byte, 5<<20)...)}, "PAYLOAD_TOO_LARGE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, r := upload(doc, tc.f); r.Code() != tc.code {
				t.Fatalf("code %q, want %q (%+v)", r.Code(), tc.code, r.Errors)
			}
		})
	}
	if _, r := upload(pat, apptest.File{Name: "me.png", Content: pngOf(t, 100, 100)}); r.Code() != "FORBIDDEN" {
		t.Fatalf("a patient uploading a doctor photo: %q", r.Code())
	}

	// A new photo has a new URL; the old one is gone, not re-pointed.
	second, r := upload(doc, apptest.File{Name: "new.png", Content: pngOf(t, 128, 128)})
	if r.Code() != "" || second == first {
		t.Fatalf("second upload: %q %+v", second, r.Errors)
	}
	if res, _, _ := env.Download("", first); res.StatusCode != http.StatusNotFound {
		t.Fatalf("the replaced photo answers %d", res.StatusCode)
	}
	if res, _, _ := env.Download("", second); res.StatusCode != http.StatusOK {
		t.Fatalf("the new photo answers %d", res.StatusCode)
	}
	for _, name := range []string{"../../etc/passwd", "00000000000000000000000000000000.png", "x.svg"} {
		if res, _, _ := env.Download("", env.Config.PublicURL+"/photos/"+name); res.StatusCode != http.StatusNotFound {
			t.Fatalf("/photos/%s answers %d", name, res.StatusCode)
		}
	}
}
