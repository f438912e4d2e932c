// Package serverproc starts and measures real `healthmed serve` processes
// for the benchmarks that need the server in a process of its own: its
// CPU time and memory are read from /proc, apart from the load generator's.
package serverproc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	_ "github.com/lib/pq"
)

// Replica is one `healthmed serve` process the benchmark started.
type Replica struct {
	Name string
	Addr string
	Cmd  *exec.Cmd
	log  string
	done chan struct{}
}

//

// Start runs `bin serve` on addr with env, its output in dir.
func Start(ctx context.Context, bin string, env []string, name, addr, dir string) (*Replica, error) {
	logPath := filepath.Join(dir, "replica-"+name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(append([]string(nil), env...), "HEALTHMED_LISTEN_ADDR="+addr)
	cmd.Stdout, cmd.Stderr = f, f
	DieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	r := &Replica{Name: name, Addr: addr, Cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); f.Close(); close(r.done) }()
	return r, nil
}

// WaitReady waits until the replica answers /readyz.
func (r *Replica) WaitReady(ctx context.Context) error {
	deadline := time.Now().Add(60 * time.Second)
	hc := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-r.done:
			return fmt.Errorf("replica %s exited:\n%s", r.Name, r.Tail())
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.Addr+"/readyz", nil)
		if res, err := hc.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if !Sleep(ctx, 200*time.Millisecond) {
			return ctx.Err()
		}
	}
	return fmt.Errorf("replica %s not ready within 60s:\n%s", r.Name, r.Tail())
}

// Tail is the end of the replica's log.
func (r *Replica) Tail() string {
	b, _ := os.ReadFile(r.log)
	return TailLines(b, 20)
}

// Stop asks for a graceful shutdown (which drains the websockets) and
// kills the replica when that takes too long.
func (r *Replica) Stop(keepLogs string) {
	_ = r.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(20 * time.Second):
		_ = r.Cmd.Process.Kill()
		<-r.done
	}
	if keepLogs != "" {
		if b, err := os.ReadFile(r.log); err == nil {
			_ = os.MkdirAll(keepLogs, 0o755)
			_ = os.WriteFile(filepath.Join(keepLogs, filepath.Base(r.log)), b, 0o644)
		}
	}
}

// Build compiles the server into out.
func Build(ctx context.Context, out string) error {
	root, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return fmt.Errorf("finding the module root (run from inside the module): %w", err)
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/healthmed")
	cmd.Dir = strings.TrimSpace(string(root))
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, b)
	}
	return nil
}

// FreshDatabase drops and creates name and returns its URL and a function
// that drops it again.
func FreshDatabase(ctx context.Context, adminURL, name string) (string, func(), error) {
	admin, err := sql.Open("postgres", adminURL)
	if err != nil {
		return "", nil, err
	}
	// The callers pass names of their own making, so quoting is enough.
	drop := func(ctx context.Context) error {
		_, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`)
		return err
	}
	if err := drop(ctx); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("dropping %s: %w", name, err)
	}
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE "`+name+`"`); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("creating %s: %w", name, err)
	}
	u, err := ReplaceDB(adminURL, name)
	if err != nil {
		admin.Close()
		return "", nil, err
	}
	return u, func() {
		// The run's context may be over; the drop gets its own time.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := drop(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "could not drop %s: %v\n", name, err)
		}
		admin.Close()
	}, nil
}

// ReplaceDB is the URL u with its database name replaced.
func ReplaceDB(u, name string) (string, error) {
	i := strings.Index(u, "://")
	if i < 0 {
		return "", errors.New("want a postgres:// URL")
	}
	rest := u[i+3:]
	slash := strings.IndexByte(rest, '/')
	q := ""
	if j := strings.IndexByte(rest, '?'); j >= 0 {
		q = rest[j:]
		rest = rest[:j]
		if slash > j {
			slash = -1
		}
	}
	if slash >= 0 {
		rest = rest[:slash]
	}
	return u[:i+3] + rest + "/" + name + q, nil
}

// SigningKey makes an ES256 key for replicas that verify each other's tokens.
func SigningKey() (string, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}

// Done is closed when the process has exited.
func (r *Replica) Done() <-chan struct{} { return r.done }

// Sleep waits d, or less when ctx ends first, and reports whether it
// waited the whole time.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// TailLines is the last n lines of b.
func TailLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
