package config

import (
	"errors"
	"strings"

	"github.com/healthmed/healthmed/internal/envelope"
)

// recordErrors checks the medical record's settings. Outside dev mode
// the keys must be given: a generated key on a production disk would be
// lost with the disk, and every record file with it.
func (c Config) recordErrors() []error {
	var errs []error
	switch {
	case c.RecordKEK != "":
		if _, err := envelope.ParseKey(string(c.RecordKEK)); err != nil {
			errs = append(errs, errors.New("HEALTHMED_RECORD_KEK: "+err.Error()))
		}
	case !c.Dev:
		errs = append(errs, errors.New("HEALTHMED_RECORD_KEK: required outside dev mode (32 random bytes in base64)"))
	}
	if _, err := c.PreviousKEKs(); err != nil {
		errs = append(errs, err)
	} else if c.RecordKEKPrevious != "" && c.RecordKEK == "" {
		errs = append(errs, errors.New("HEALTHMED_RECORD_KEK_PREVIOUS: only with HEALTHMED_RECORD_KEK, the key they are rotated to"))
	}
	switch {
	case c.LinkSecret != "":
		if len(c.LinkSecret) < 32 {
			errs = append(errs, errors.New("HEALTHMED_LINK_SECRET: want at least 32 characters"))
		}
	case !c.Dev:
		errs = append(errs, errors.New("HEALTHMED_LINK_SECRET: required outside dev mode"))
	}
	switch c.BlobStore {
	case "fs":
	case "s3":
		if c.S3.Endpoint == "" || c.S3.Bucket == "" {
			errs = append(errs, errors.New("HEALTHMED_S3_ENDPOINT and HEALTHMED_S3_BUCKET: required with HEALTHMED_BLOB_STORE=s3"))
		}
	default:
		errs = append(errs, errors.New(`HEALTHMED_BLOB_STORE: want "fs" or "s3"`))
	}
	return errs
}

// PreviousKEKs decodes HEALTHMED_RECORD_KEK_PREVIOUS.
func (c Config) PreviousKEKs() ([][]byte, error) {
	var out [][]byte
	for _, k := range strings.Split(string(c.RecordKEKPrevious), ",") {
		if k = strings.TrimSpace(k); k == "" {
			continue
		}
		key, err := envelope.ParseKey(k)
		if err != nil {
			return nil, errors.New("HEALTHMED_RECORD_KEK_PREVIOUS: " + err.Error())
		}
		out = append(out, key)
	}
	return out, nil
}
