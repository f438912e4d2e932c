// Package blobtest gives tests an S3-compatible store that runs in the
// test process (gofakes3 with its memory backend behind httptest), so the
// S3 code path is exercised over real HTTP without any external service.
package blobtest

import (
	"context"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/healthmed/healthmed/internal/blob"
)

// Bucket is the bucket every fake store has.
const Bucket = "records"

// S3Config starts a fake S3 for the test and returns how to reach it.
func S3Config(t testing.TB) blob.S3Config {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(Bucket); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return blob.S3Config{
		Endpoint: u.Host, Bucket: Bucket, Region: "us-east-1",
		AccessKey: "test-access", SecretKey: "test-secret", Insecure: true,
	}
}

// S3 returns a store on a fresh fake S3.
func S3(t testing.TB) *blob.S3 {
	t.Helper()
	s, err := blob.NewS3(context.Background(), S3Config(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
