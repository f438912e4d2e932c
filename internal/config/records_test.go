package config

import (
	"strings"
	"testing"
	"time"
)

func TestRecordSettings(t *testing.T) {
	prod := map[string]string{
		"HEALTHMED_SIGNING_KEY": "pem",
		"HEALTHMED_RECORD_KEK":  "a2V5LWVuY3J5cHRpb24ta2V5LW9mLTMyLWJ5dGVzISE=",
		"HEALTHMED_LINK_SECRET": "link-secret-of-at-least-32-characters",
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for k, v := range prod {
			m[k] = v
		}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	refused := map[string]map[string]string{
		"no KEK outside dev":         with("HEALTHMED_RECORD_KEK", ""),
		"KEK of 16 bytes":            with("HEALTHMED_RECORD_KEK", "MTYtYnl0ZXMtb2Yta2V5IQ=="),
		"KEK not base64":             with("HEALTHMED_RECORD_KEK", "not base64 at all"),
		"no link secret outside dev": with("HEALTHMED_LINK_SECRET", ""),
		"short link secret":          with("HEALTHMED_LINK_SECRET", "short"),
		"unknown store":              with("HEALTHMED_BLOB_STORE", "ftp"),
		"s3 without a bucket":        with("HEALTHMED_BLOB_STORE", "s3"),
		"bad upload limit":           with("HEALTHMED_MAX_UPLOAD_BYTES", "-1"),
		"no retention":               with("HEALTHMED_RECORD_RETENTION", "0s"),
		"previous KEK not base64":    with("HEALTHMED_RECORD_KEK_PREVIOUS", "not base64"),
		"previous KEK of 16 bytes":   with("HEALTHMED_RECORD_KEK_PREVIOUS", "MTYtYnl0ZXMtb2Yta2V5IQ=="),
		"retention not a duration":   with("HEALTHMED_RECORD_RETENTION", "30 days"),
	}
	for name, m := range refused {
		if _, err := FromEnv(env(m)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	c, err := FromEnv(env(prod))
	if err != nil || c.BlobStore != "fs" || c.MaxUploadBytes != 25<<20 || c.RecordRetention != 30*24*time.Hour {
		t.Fatalf("defaults: store %q, limit %d, retention %v, err %v", c.BlobStore, c.MaxUploadBytes, c.RecordRetention, err)
	}
	c, err = FromEnv(env(with("HEALTHMED_RECORD_KEK_PREVIOUS", " a2V5LWVuY3J5cHRpb24ta2V5LW9mLTMyLWJ5dGVzISE= ,a2V5LWVuY3J5cHRpb24ta2V5LW9mLTMyLWJ5dGVzISE=")))
	if prev, perr := c.PreviousKEKs(); err != nil || perr != nil || len(prev) != 2 || len(prev[0]) != 32 {
		t.Fatalf("two previous KEKs: %d keys, %v %v", len(prev), err, perr)
	}
	if s := c.LogValue().String(); strings.Contains(s, "a2V5") {
		t.Fatalf("a previous KEK reached the log line: %s", s)
	}
	devWithPrevious := map[string]string{"HEALTHMED_DEV": "true", "HEALTHMED_RECORD_KEK_PREVIOUS": "a2V5LWVuY3J5cHRpb24ta2V5LW9mLTMyLWJ5dGVzISE="}
	if _, err := FromEnv(env(devWithPrevious)); err == nil {
		t.Fatal("previous KEKs without the KEK they were rotated to were accepted")
	}
	// Dev mode generates the keys itself.
	if _, err := FromEnv(env(map[string]string{"HEALTHMED_DEV": "true"})); err != nil {
		t.Fatalf("dev without keys: %v", err)
	}
}
