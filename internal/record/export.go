package record

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/auditevent"
	"github.com/healthmed/healthmed/ent/recordfile"
)

// ExportOwnFiles writes every live file of the signed-in patient through
// add, decrypted and checked against its digest, and logs each as a
// download by its owner: an export is an access like any other. It returns
// the files' metadata in the order written. Its route is the patients'
// (internal/server), and the privacy rule shows a patient their own live
// files only.
func (s *Service) ExportOwnFiles(ctx context.Context, add func(name string) (io.Writer, error)) ([]*ent.RecordFile, error) {
	files, err := s.Client.RecordFile.Query().Order(ent.Asc(recordfile.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		w, err := add(fmt.Sprintf("files/%d-%s", f.ID, exportName(fileNameFor(f.FileName, f.ContentType))))
		if err != nil {
			return nil, err
		}
		plain, closeBlob, err := s.open(ctx, f)
		if err != nil {
			return nil, err
		}
		_, err = io.Copy(w, plain)
		closeBlob()
		if err != nil {
			return nil, fmt.Errorf("export file %d: %w", f.ID, err)
		}
		if err := s.logAccess(ctx, access{action: auditevent.ActionDOWNLOAD, allowed: true,
			patientID: f.PatientID, fileID: f.ID, detail: "data export"}); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// exportName keeps a stored name safe as a path inside an archive.
func exportName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	if name == "." || name == "/" || name == "" {
		return "file"
	}
	return name
}
