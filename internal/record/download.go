package record

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
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

// DownloadHandler serves GET /files/{token}: it checks the link, checks
// again that the link's viewer may still see the file (a share revoked a
// second ago counts), logs the download, and streams the decrypted bytes.
//
// The link is the credential, so a browser can follow it. A request that
// also carries a bearer token must come from the viewer the link was made
// for: a link passed to another signed-in person does not work for them.
func (s *Service) DownloadHandler() http.Handler {
	return http.HandlerFunc(s.serveDownload)
}

func (s *Service) serveDownload(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	caller := viewer.FromContext(ctx)
	row := access{action: auditevent.ActionDOWNLOAD}
	l, err := s.Links.parse(r.PathValue("token"), s.now())
	if errors.Is(err, errLinkInvalid) {
		row.detail = "invalid link"
		s.refuse(ctx, w, r, row, http.StatusForbidden, gqlerr.Forbidden, "invalid or expired link")
		return
	}
	// The signature holds, so the link's file and viewer are the server's
	// own words from here on.
	row.fileID = l.FileID
	f, ferr := s.Client.RecordFile.Get(viewer.SystemContext(ctx), l.FileID)
	if ferr != nil && !ent.IsNotFound(ferr) {
		s.fail(w, r, ferr)
		return
	}
	if f != nil {
		row.patientID = f.PatientID
	}
	as := viewer.NewContext(ctx, viewer.Viewer{Role: l.Viewer.Role, ID: l.Viewer.ID, ClientAddr: caller.ClientAddr})
	switch {
	case caller.Role != viewer.Anonymous && (caller.Role != l.Viewer.Role || caller.ID != l.Viewer.ID):
		row.detail = "link made for someone else"
		s.refuse(ctx, w, r, row, http.StatusForbidden, gqlerr.Forbidden, "this link was made for someone else")
		return
	case errors.Is(err, errLinkExpired):
		row.detail = "link expired"
		s.refuse(as, w, r, row, http.StatusForbidden, gqlerr.Forbidden, "invalid or expired link")
		return
	}
	// Exist, not All: this check is not a view of the metadata, and the
	// download row below is this access's one row.
	visible, err := s.Client.RecordFile.Query().Where(recordfile.ID(l.FileID)).Exist(as)
	if err != nil && !errors.Is(err, privacy.Deny) {
		s.fail(w, r, err)
		return
	}
	if !visible || f == nil {
		row.detail = "no access"
		s.refuse(as, w, r, row, http.StatusNotFound, gqlerr.NotFound, "file not found")
		return
	}
	if l.Viewer.IsDoctor() {
		shares, err := s.coveringShares(ctx, l.Viewer.ID, []*ent.RecordFile{f})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		row.shareID = shares[f.ID]
	}
	row.allowed = true
	if err := s.logAccess(as, row); err != nil {
		s.fail(w, r, err)
		return
	}
	s.stream(w, r, f)
}

// stream decrypts f to w. The first segment is opened before the status
// line goes out, so a file damaged there, or a file of one segment whose
// digest does not match, fails with a clean error. Later damage aborts
// the connection short of Content-Length (see the package comment).
func (s *Service) stream(w http.ResponseWriter, r *http.Request, f *ent.RecordFile) {
	ctx := r.Context()
	plain, closeBlob, err := s.open(ctx, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer closeBlob()
	first := make([]byte, envelope.SegmentSize)
	n, err := io.ReadFull(plain, first)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		s.fail(w, r, err)
		return
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

// refuse logs a denied download as the viewer in ctx and answers with an
// error; if the row cannot be written the answer is a 500 (a 429 past the
// viewer's budget), never a silent refusal.
func (s *Service) refuse(ctx context.Context, w http.ResponseWriter, r *http.Request, row access, status int, code, msg string) {
	if err := s.logAccess(ctx, row); err != nil {
		s.fail(w, r, err)
		return
	}
	writeError(w, r, status, code, msg)
}

func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	var limited *gqlerr.Error
	if errors.As(err, &limited) && limited.Code == gqlerr.RateLimited {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(limited.RetryAfter.Seconds()))))
		writeError(w, r, http.StatusTooManyRequests, gqlerr.RateLimited, limited.Message)
		return
	}
	s.Log.ErrorContext(r.Context(), "download failed", "err", err.Error(),
		"request_id", requestid.FromContext(r.Context()))
	writeError(w, r, http.StatusInternalServerError, gqlerr.Internal, "the file cannot be read")
}

// writeError answers in the shape of a GraphQL error, so clients handle
// the download endpoint's failures like every other.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	ext := map[string]any{"code": code}
	if id := requestid.FromContext(r.Context()); id != "" {
		ext["requestId"] = id
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": ext}},
	})
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
