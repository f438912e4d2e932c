package record

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/auditevent"
	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/ent/recordfile"
	"github.com/healthmed/healthmed/internal/envelope"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/requestid"
	"github.com/healthmed/healthmed/internal/viewer"
)

// ServeDownload serves GET /files/{token}: it checks the link, checks
// again that the link's viewer may still see the file (a share revoked a
// second ago counts), logs the download, and streams the decrypted bytes.
//
// The link is the credential, so a browser can follow it. A request that
// also carries a bearer token must come from the viewer the link was made
// for: a link passed to another signed-in person does not work for them.
//
// Errors are returned for the HTTP layer to answer, before anything is
// written; a failure once the file is streaming aborts the response.
func (s *Service) ServeDownload(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	caller := viewer.FromContext(ctx)
	row := access{action: auditevent.ActionDOWNLOAD}
	l, err := s.Links.parse(r.PathValue("token"), s.now())
	if errors.Is(err, errLinkInvalid) {
		row.detail = "invalid link"
		return s.refuse(ctx, row, &gqlerr.Error{Code: gqlerr.Forbidden, Message: "invalid or expired link"})
	}
	// The signature holds, so the link's file and viewer are the server's
	// own words from here on.
	row.fileID = l.FileID
	f, ferr := s.Client.RecordFile.Get(viewer.SystemContext(ctx), l.FileID)
	if ferr != nil && !ent.IsNotFound(ferr) {
		return ferr
	}
	if f != nil {
		row.patientID = f.PatientID
	}
	as := viewer.NewContext(ctx, viewer.Viewer{Role: l.Viewer.Role, ID: l.Viewer.ID, ClientAddr: caller.ClientAddr})
	switch {
	case caller.ID != 0 && !caller.Is(l.Viewer):
		row.detail = "link made for someone else"
		return s.refuse(ctx, row, &gqlerr.Error{Code: gqlerr.Forbidden, Message: "this link was made for someone else"})
	case errors.Is(err, errLinkExpired):
		row.detail = "link expired"
		return s.refuse(as, row, &gqlerr.Error{Code: gqlerr.Forbidden, Message: "invalid or expired link"})
	}
	if s.SignedIn != nil {
		if err := s.SignedIn(ctx, l.Viewer); errors.Is(err, ErrSignedOut) {
			row.detail = "sign-in ended"
			return s.refuse(as, row, &gqlerr.Error{Code: gqlerr.Forbidden, Message: "invalid or expired link"})
		} else if err != nil {
			return err
		}
	}
	// Exist, not All: this check is not a view of the metadata, and the
	// download row below is this access's one row.
	visible, err := s.Client.RecordFile.Query().Where(recordfile.ID(l.FileID)).Exist(as)
	if err != nil && !errors.Is(err, privacy.Deny) {
		return err
	}
	if !visible || f == nil {
		row.detail = "no access"
		return s.refuse(as, row, &gqlerr.Error{Code: gqlerr.NotFound, Message: "file not found"})
	}
	if l.Viewer.IsDoctor() {
		shares, err := s.coveringShares(ctx, l.Viewer.ID, []*ent.RecordFile{f})
		if err != nil {
			return err
		}
		row.shareID = shares[f.ID]
	}
	row.allowed = true
	if err := s.logAccess(as, row); err != nil {
		return err
	}
	return s.stream(w, r, f)
}

// stream decrypts f to w. The first segment is opened before the status
// line goes out, so a file damaged there, or a file of one segment whose
// digest does not match, fails with a clean error. Later damage aborts
// the connection short of Content-Length (see the package comment).
func (s *Service) stream(w http.ResponseWriter, r *http.Request, f *ent.RecordFile) error {
	ctx := r.Context()
	plain, closeBlob, err := s.open(ctx, f)
	if err != nil {
		return err
	}
	defer closeBlob()
	first := make([]byte, envelope.SegmentSize)
	n, err := io.ReadFull(plain, first)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", f.ContentType)
	h.Set("Content-Length", strconv.FormatInt(f.SizeBytes, 10))
	// Files stored before names followed the sniffed type are served
	// under a name that does.
	h.Set("Content-Disposition", contentDisposition(fileNameFor(f.FileName, f.ContentType)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	// Opened in a tab anyway, the file runs no script and reaches nothing.
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(first[:n])
	if err == nil {
		_, err = io.Copy(w, plain)
	}
	if err != nil {
		s.Log.ErrorContext(ctx, "download aborted", "file_id", f.ID, "err", err.Error(),
			"request_id", requestid.FromContext(ctx))
		// The status is sent: aborting the connection is the only way left
		// to tell the client the body is not the file.
		panic(http.ErrAbortHandler)
	}
	return nil
}

// open returns a reader of f's plaintext that fails rather than release
// bytes that do not authenticate or do not hash to f's SHA-256.
func (s *Service) open(ctx context.Context, f *ent.RecordFile) (io.Reader, func(), error) {
	dataKey, err := s.Keys.UnwrapKey(ctx, f.WrappedKey, keyAAD(f.StorageKey))
	if err != nil {
		return nil, nil, fmt.Errorf("unwrap data key of file %d: %w", f.ID, err)
	}
	sum, err := hex.DecodeString(f.Sha256)
	if err != nil {
		return nil, nil, fmt.Errorf("digest of file %d: %w", f.ID, err)
	}
	rc, err := s.Store.Get(ctx, f.StorageKey)
	if err != nil {
		return nil, nil, fmt.Errorf("fetch file %d: %w", f.ID, err)
	}
	plain, err := envelope.NewReader(rc, dataKey, sum)
	if err != nil {
		rc.Close()
		return nil, nil, fmt.Errorf("open file %d: %w", f.ID, err)
	}
	return plain, func() { rc.Close() }, nil
}

// refuse logs a denied download as the viewer in ctx and returns the
// refusal; if the row cannot be written the answer is that error (a 500,
// or a 429 past the viewer's budget), never a silent refusal.
func (s *Service) refuse(ctx context.Context, row access, e *gqlerr.Error) error {
	if err := s.logAccess(ctx, row); err != nil {
		return err
	}
	return e
}

// contentDisposition makes the browser save the file under its name:
// an ASCII fallback for old clients, and the name itself in RFC 5987
// form. The name was sanitised at upload; quotes and backslashes are
// dropped from the fallback all the same.
func contentDisposition(name string) string {
	var ascii, enc strings.Builder
	for _, r := range name {
		switch {
		case r < 0x20 || r >= 0x7f || r == '"' || r == '\\':
			ascii.WriteByte('_')
		default:
			ascii.WriteRune(r)
		}
	}
	for _, b := range []byte(name) {
		if b < 0x80 && (b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' ||
			strings.IndexByte("!#$&+-.^_`|~", b) >= 0) {
			enc.WriteByte(b)
		} else {
			fmt.Fprintf(&enc, "%%%02X", b)
		}
	}
	return `attachment; filename="` + ascii.String() + `"; filename*=UTF-8''` + enc.String()
}
