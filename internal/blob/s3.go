package blob

import (
	"context"
	"fmt"
	"io"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config names a bucket on an S3-compatible service (AWS S3, MinIO,
// Ceph, Cloudflare R2, Backblaze B2...).
type S3Config struct {
	// Endpoint is host[:port], without a scheme.
	Endpoint  string
	Bucket    string
	Region    string
	AccessKey string
	SecretKey string
	// Insecure speaks plain HTTP; only for a store on the same host or a
	// test.
	Insecure bool
}

// S3 keeps objects in one bucket.
type S3 struct {
	client *minio.Client
	bucket string
}

// NewS3 connects to the bucket and checks that it exists, so that a wrong
// name or credentials fail at start-up rather than at a patient's upload.
func NewS3(ctx context.Context, c S3Config) (*S3, error) {
	client, err := minio.New(c.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(c.AccessKey, c.SecretKey, ""),
		Secure: !c.Insecure,
		Region: c.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("blob: s3 client: %w", err)
	}
	ok, err := client.BucketExists(ctx, c.Bucket)
	if err != nil {
		return nil, fmt.Errorf("blob: s3 bucket %q: %w", c.Bucket, err)
	}
	if !ok {
		return nil, fmt.Errorf("blob: s3 bucket %q does not exist", c.Bucket)
	}
	return &S3{client: client, bucket: c.Bucket}, nil
}

// Put sends one streaming PUT of the exact size. Multipart uploads would
// buffer a whole part (5 MiB or more) in memory; record files are at most
// tens of MiB, well under a single PUT's 5 GiB.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if !validKey(key) {
		return errBadKey
	}
	_, err := s.client.PutObject(ctx, s.bucket, key, r, size, minio.PutObjectOptions{
		ContentType:      "application/octet-stream",
		DisableMultipart: true,
	})
	return err
}

func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if !validKey(key) {
		return nil, errBadKey
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, err
	}
	// GetObject is lazy: Stat makes the request, so absence shows here
	// rather than in the middle of a download.
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return nil, ErrNotFound
		}
		return nil, err
	}
	return obj, nil
}

func (s *S3) Delete(ctx context.Context, key string) error {
	if !validKey(key) {
		return errBadKey
	}
	err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{})
	if err != nil && minio.ToErrorResponse(err).Code == "NoSuchKey" {
		return nil
	}
	return err
}
