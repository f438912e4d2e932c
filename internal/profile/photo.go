package profile

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/internal/blob"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/txn"
	"github.com/healthmed/healthmed/internal/viewer"
)

const (
	// MaxPhotoBytes bounds an uploaded photo.
	MaxPhotoBytes = 5 << 20
	// A photo's sides, in pixels. The upper bound also bounds what
	// decoding allocates (2048² RGBA is 16 MiB) before a pixel is read.
	minPhotoSide = 64
	maxPhotoSide = 2048
)

// photoDecodes bounds the photos a replica decodes at once: decoding one
// may allocate 32 MiB (2048² pixels of 16-bit RGBA).
var photoDecodes = make(chan struct{}, 2)

// photo is an accepted upload, re-encoded.
type photo struct {
	ext  string // "jpg" or "png"
	data []byte
}

// decodePhoto accepts a JPEG or PNG whatever the client calls it, by its
// first bytes, reads its size from the header before decoding it, and
// encodes the pixels again: what is stored and served is an image this
// server wrote, without the original's metadata (a phone's photo carries
// where it was taken) or anything hidden after the image data.
func decodePhoto(data []byte) (photo, error) {
	var (
		ext    string
		config func(io.Reader) (image.Config, error)
		decode func(io.Reader) (image.Image, error)
	)
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		ext, config, decode = "png", png.DecodeConfig, png.Decode
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		ext, config, decode = "jpg", jpeg.DecodeConfig, jpeg.Decode
	default:
		return photo{}, gqlerr.BadInput("file", "a photo must be a JPEG or PNG image")
	}
	cfg, err := config(bytes.NewReader(data))
	if err != nil {
		return photo{}, gqlerr.BadInput("file", "the image cannot be read")
	}
	if cfg.Width < minPhotoSide || cfg.Height < minPhotoSide || cfg.Width > maxPhotoSide || cfg.Height > maxPhotoSide {
		return photo{}, gqlerr.BadInput("file", "a photo must be %d to %d pixels on each side", minPhotoSide, maxPhotoSide)
	}
	img, err := decode(bytes.NewReader(data))
	if err != nil {
		return photo{}, gqlerr.BadInput("file", "the image cannot be read")
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return photo{}, gqlerr.BadInput("file", "the image cannot be read")
	}
	var out bytes.Buffer
	if ext == "png" {
		err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&out, img)
	} else {
		err = jpeg.Encode(&out, img, &jpeg.Options{Quality: 85})
	}
	if err != nil {
		return photo{}, err
	}
	return photo{ext: ext, data: out.Bytes()}, nil
}

// UploadPhoto replaces the signed-in doctor's photo. The photo is stored
// under a new key, so its URL never names other bytes and can be cached
// for ever; the previous photo is deleted once the change commits, the
// new one if it does not.
func (s *Service) UploadPhoto(ctx context.Context, file graphql.Upload) (*ent.Doctor, error) {
	if file.Size > MaxPhotoBytes {
		return nil, gqlerr.TooLarge("a photo has at most 5 MiB")
	}
	data, err := io.ReadAll(io.LimitReader(file.File, MaxPhotoBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxPhotoBytes {
		return nil, gqlerr.TooLarge("a photo has at most 5 MiB")
	}
	select {
	case photoDecodes <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p, err := decodePhoto(data)
	<-photoDecodes
	if err != nil {
		return nil, err
	}
	id, err := blob.NewKey()
	if err != nil {
		return nil, err
	}
	if err := s.Photos.Put(ctx, id, bytes.NewReader(p.data), int64(len(p.data))); err != nil {
		return nil, err
	}
	txn.OnAbort(ctx, func() { s.deletePhoto(ctx, id) })
	v := viewer.FromContext(ctx)
	db := s.db(ctx)
	old, err := db.Doctor.Query().Where(doctor.ID(v.ID)).ForUpdate().Only(ctx)
	if err != nil {
		return nil, err
	}
	d, err := db.Doctor.UpdateOne(old).SetPhotoKey(id + "." + p.ext).Save(ctx)
	if err != nil {
		return nil, err
	}
	if old.PhotoKey != nil {
		prev, _, _ := strings.Cut(*old.PhotoKey, ".")
		txn.AfterCommit(ctx, func() { s.deletePhoto(ctx, prev) })
	}
	return d, nil
}

func (s *Service) deletePhoto(ctx context.Context, key string) {
	if err := s.Photos.Delete(context.WithoutCancel(ctx), key); err != nil {
		s.Log.ErrorContext(ctx, "delete photo", "err", err.Error())
	}
}

// PhotoURL is where anyone fetches the doctor's photo, or nil without one.
func (s *Service) PhotoURL(d *ent.Doctor) *string {
	if d.PhotoKey == nil {
		return nil
	}
	u := strings.TrimRight(s.PublicURL, "/") + "/photos/" + *d.PhotoKey
	return &u
}

// ServePhoto serves a doctor's current photo by the name PhotoURL gave
// it. A name is one upload's: the bytes behind it never change, so any
// cache may keep them for a year; a replaced photo is gone (404).
func (s *Service) ServePhoto(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	id, ext, _ := strings.Cut(name, ".")
	types := map[string]string{"jpg": "image/jpeg", "png": "image/png"}
	if types[ext] == "" || len(id) != 32 || len(name) > 40 {
		return gqlerr.NotFoundError("photo")
	}
	ctx := r.Context()
	ok, err := s.Client.Doctor.Query().Where(doctor.PhotoKey(name)).Exist(viewer.SystemContext(ctx))
	if err != nil {
		return err
	}
	if !ok {
		return gqlerr.NotFoundError("photo")
	}
	body, err := s.Photos.Get(ctx, id)
	if errors.Is(err, blob.ErrNotFound) {
		return gqlerr.NotFoundError("photo")
	}
	if err != nil {
		return err
	}
	defer body.Close()
	h := w.Header()
	h.Set("Content-Type", types[ext])
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	_, err = io.Copy(w, body)
	return err
}
