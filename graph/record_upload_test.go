package graph_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/blob/blobtest"
	"github.com/healthmed/healthmed/internal/config"
	"github.com/healthmed/healthmed/internal/envelope"
)

// storedObjects counts the files the file-system store holds.
func storedObjects(t *testing.T, env *apptest.Env) int {
	t.Helper()
	n := 0
	_ = filepath.WalkDir(filepath.Join(env.Config.DataDir, "records"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

func TestUploadRefusesBadFilesAndStoresNothing(t *testing.T) {
	env := apptest.New(t)
	alice, _, _ := env.Patient("Alice")
	doc, _ := env.Doctor("Dr. Upload", "Cardiology", -23.5, -46.6)
	limit := int(env.App.Records.MaxBytes)
	if limit != 25<<20 {
		t.Fatalf("default limit %d, want 25 MiB", limit)
	}
	exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"), make([]byte, 2000)...)
	textThenBinary := append(bytes.Repeat([]byte("texto claro "), 100), 0x00, 0x01, 0x02)
	ok := fileInput("Exame", "EXAM")
	cases := []struct {
		name    string
		token   string
		vars    map[string]any
		file    apptest.File
		chunked bool
		code    string
		field   string
	}{
		{"file one byte over the limit", alice, ok, apptest.File{Name: "big.pdf", Content: pdf(limit + 1)}, false, "PAYLOAD_TOO_LARGE", ""},
		{"body over the transport's limit", alice, ok, apptest.File{Name: "huge.pdf", Content: pdf(limit + 2<<20)}, false, "PAYLOAD_TOO_LARGE", ""},
		{"chunked body over the limit", alice, ok, apptest.File{Name: "huge.pdf", Content: pdf(limit + 2<<20)}, true, "PAYLOAD_TOO_LARGE", ""},
		{"executable renamed .pdf", alice, ok, apptest.File{Name: "laudo.pdf", ContentType: "application/pdf", Content: exe}, false, "BAD_USER_INPUT", "file"},
		{"empty file", alice, ok, apptest.File{Name: "vazio.pdf", Content: nil}, false, "BAD_USER_INPUT", "file"},
		{"text with binary past the sniffed bytes", alice, ok, apptest.File{Name: "notas.txt", Content: textThenBinary}, false, "BAD_USER_INPUT", "file"},
		{"blank title", alice, fileInput("  ", "EXAM"), apptest.File{Name: "a.pdf", Content: pdf(100)}, false, "BAD_USER_INPUT", "input.title"},
		{"bad tag", alice, fileInput("Exame", "EXAM", strings.Repeat("x", 41)), apptest.File{Name: "a.pdf", Content: pdf(100)}, false, "BAD_USER_INPUT", "input.tags"},
		{"doctor", doc, ok, apptest.File{Name: "a.pdf", Content: pdf(100)}, false, "FORBIDDEN", ""},
		{"anonymous", "", ok, apptest.File{Name: "a.pdf", Content: pdf(100)}, false, "UNAUTHENTICATED", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := lastAuditID(t, env)
			send := env.Upload
			if tc.chunked {
				send = env.UploadChunked
			}
			r := send(tc.token, uploadOp, tc.vars, tc.file)
			if r.Code() != tc.code || r.Ext("field") != tc.field {
				t.Fatalf("code %q field %q, want %q %q (%+v)", r.Code(), r.Ext("field"), tc.code, tc.field, r.Errors)
			}
			if n, err := env.DB.Client.RecordFile.Query().Count(sysCtx()); err != nil || n != 0 {
				t.Fatalf("%d record files after a refused upload (err %v)", n, err)
			}
			if n := storedObjects(t, env); n != 0 {
				t.Fatalf("%d stored objects after a refused upload", n)
			}
			if rows := auditAfter(t, env, before); len(rows) != 0 {
				t.Fatalf("a refused upload wrote %d audit rows", len(rows))
			}
		})
	}
}

func TestUploadSniffsTypesAndKeepsOnlyASafeFileName(t *testing.T) {
	env := apptest.New(t)
	alice, _, _ := env.Patient("Alice")
	dicom := append(make([]byte, 128), []byte("DICM\x02\x00\x00\x00UL")...)
	cases := []struct {
		name, wantName, wantType string
		content                  []byte
	}{
		{"../../etc/passwd.pdf", "passwd.pdf", "application/pdf", pdf(1000)},
		{`..\..\Windows\exame.png`, "exame.png", "image/png", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...)},
		{"/abs/raio-x.jpg", "raio-x.jpg", "image/jpeg", append([]byte("\xff\xd8\xff\xe0"), make([]byte, 100)...)},
		{"tomografia.dcm", "tomografia.dcm", "application/dicom", dicom},
		{"receita\u202etxt.exe", "receitatxt.txt", "text/plain; charset=utf-8", []byte("Dipirona 500 mg, de 6 em 6 horas.\n")},
		// The client's claim of PDF is ignored: the bytes are text, and
		// the name says so.
		{"notas.pdf", "notas.txt", "text/plain; charset=utf-8", []byte("Pressão 12x8.\n")},
		// Text a desktop would run, or a browser render, by its extension.
		{"laudo.hta", "laudo.txt", "text/plain; charset=utf-8", []byte("<script>alert(1)</script>\n")},
		{"exame.js", "exame.txt", "text/plain; charset=utf-8", []byte("new ActiveXObject('WScript.Shell')\n")},
		{"resultado.bat", "resultado.txt", "text/plain; charset=utf-8", []byte("del /q C:\\*\n")},
		{"pagina.html", "pagina.txt", "text/plain; charset=utf-8", []byte("<html><body>oi</body></html>\n")},
		{"fatura.pdf.exe", "fatura.pdf", "application/pdf", pdf(200)},
	}
	for _, tc := range cases {
		var out struct {
			UploadRecordFile struct {
				ID, FileName, ContentType string
				SizeBytes                 int
			}
		}
		env.Upload(alice, uploadOp, fileInput("Arquivo", "OTHER"), apptest.File{Name: tc.name, ContentType: "application/pdf", Content: tc.content}).Decode(t, &out)
		f := out.UploadRecordFile
		if f.FileName != tc.wantName || f.ContentType != tc.wantType || f.SizeBytes != len(tc.content) {
			t.Errorf("%q: stored as %q, %q, %d bytes; want %q, %q", tc.name, f.FileName, f.ContentType, f.SizeBytes, tc.wantName, tc.wantType)
		}
		row, err := env.DB.Client.RecordFile.Get(sysCtx(), atoi(t, f.ID))
		if err != nil {
			t.Fatal(err)
		}
		// The storage key is the server's own random name; nothing of the
		// client's name reaches the file system.
		if len(row.StorageKey) != 32 || strings.ContainsAny(row.StorageKey, "./\\") {
			t.Errorf("storage key %q", row.StorageKey)
		}
		// The download is saved under the same name, as the type it is.
		res, _, err := env.Download(alice, downloadURL(t, env, alice, f.ID))
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("%q: download %v %v", tc.name, res, err)
		}
		h := res.Header
		if !strings.Contains(h.Get("Content-Disposition"), `attachment; filename="`+asciiName(tc.wantName)+`"`) ||
			h.Get("Content-Type") != tc.wantType || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%q: download headers %v", tc.name, h)
		}
	}
	_ = filepath.WalkDir(env.Config.DataDir, func(p string, _ fs.DirEntry, _ error) error {
		for _, bad := range []string{"passwd", "exame", "raio", "tomografia", "receita", "notas", "laudo", "pagina", "fatura"} {
			if strings.Contains(filepath.Base(p), bad) {
				t.Errorf("a client's file name reached the file system: %s", p)
			}
		}
		return nil
	})
}

// TestRecordFilesAreEncryptedAtRestOnBothStores runs the same file through
// the file-system store and an S3 store in the test process: the stored
// bytes are not the plaintext, and damaged bytes never download as a
// complete file.
func TestRecordFilesAreEncryptedAtRestOnBothStores(t *testing.T) {
	for _, store := range []string{"fs", "s3"} {
		t.Run(store, func(t *testing.T) {
			var opts []apptest.Option
			if store == "s3" {
				s3 := blobtest.S3Config(t)
				opts = append(opts, apptest.WithConfig(func(c *config.Config) {
					c.BlobStore = "s3"
					c.S3 = config.S3{Endpoint: s3.Endpoint, Bucket: s3.Bucket, Region: s3.Region,
						AccessKey: s3.AccessKey, SecretKey: config.Secret(s3.SecretKey), Insecure: s3.Insecure}
				}))
			}
			env := apptest.New(t, opts...)
			alice, _, _ := env.Patient("Alice")
			content := pdf(3*envelope.SegmentSize + 1000)
			id := upload(t, env, alice, fileInput("Ressonância", "IMAGE"), apptest.File{Name: "rm.pdf", Content: content})
			row, err := env.DB.Client.RecordFile.Get(sysCtx(), atoi(t, id))
			if err != nil {
				t.Fatal(err)
			}
			if sum := sha256.Sum256(content); row.Sha256 != hex.EncodeToString(sum[:]) {
				t.Fatal("stored digest is not the plaintext's SHA-256")
			}
			ctx := context.Background()
			objects := env.App.Records.Store
			get := func() []byte {
				rc, err := objects.Get(ctx, row.StorageKey)
				if err != nil {
					t.Fatal(err)
				}
				defer rc.Close()
				b, _ := io.ReadAll(rc)
				return b
			}
			put := func(b []byte) {
				if err := objects.Put(ctx, row.StorageKey, bytes.NewReader(b), int64(len(b))); err != nil {
					t.Fatal(err)
				}
			}
			sealed := get()
			if int64(len(sealed)) != envelope.SealedSize(int64(len(content))) {
				t.Fatalf("stored %d bytes, want %d", len(sealed), envelope.SealedSize(int64(len(content))))
			}
			for off := 0; off+64 <= len(content); off += 4096 {
				if bytes.Contains(sealed, content[off:off+64]) {
					t.Fatalf("plaintext at offset %d is visible in storage", off)
				}
			}
			download := func() (int, []byte, error) {
				res, body, err := env.Download(alice, downloadURL(t, env, alice, id))
				return res.StatusCode, body, err
			}
			if status, body, err := download(); status != 200 || err != nil || !bytes.Equal(body, content) {
				t.Fatalf("intact download: %d, %d bytes, %v", status, len(body), err)
			}

			flip := func(off int) []byte {
				b := append([]byte{}, sealed...)
				b[off] ^= 0x01
				return b
			}
			// Damage past the first segment: the status is already sent, so
			// the connection is cut short of Content-Length.
			for _, off := range []int{len(sealed) / 2, len(sealed) - 10} {
				put(flip(off))
				status, body, err := download()
				if status != 200 || err == nil || len(body) >= len(content) || !bytes.Equal(body, content[:len(body)]) {
					t.Fatalf("flipped byte at %d: status %d, %d of %d bytes, err %v", off, status, len(body), len(content), err)
				}
			}
			// Damage in the first segment: a clean error before any byte.
			put(flip(40))
			status, body, err := download()
			if status != 500 || err != nil || !strings.Contains(string(body), `"INTERNAL"`) || bytes.Contains(body, content[9:60]) {
				t.Fatalf("flipped byte in the first segment: %d %s %v", status, body, err)
			}
			put(sealed)
			// Intact bytes under a wrong digest: the last segment is withheld.
			if err := env.DB.Client.RecordFile.UpdateOneID(row.ID).SetSha256(strings.Repeat("0", 64)).Exec(sysCtx()); err != nil {
				t.Fatal(err)
			}
			status, body, err = download()
			if status != 200 || err == nil || len(body) >= len(content) {
				t.Fatalf("digest mismatch: status %d, %d of %d bytes, err %v", status, len(body), len(content), err)
			}
		})
	}
}

// asciiName is the Content-Disposition fallback of a name: what is not
// printable ASCII reads as "_".
func asciiName(name string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r >= 0x7f || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, name)
}
