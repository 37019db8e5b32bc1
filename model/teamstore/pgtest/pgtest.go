// Package pgtest runs a real PostgreSQL server for the team store's
// tests: initdb into a temp dir, the server on a free loopback port with
// its socket beside the data, a login role `sitroom` with a password
// (scram-sha-256) owning a database `noc`. A test gets a libpq URL without
// the password and a password file (0600): the password is never in the
// URL a test passes around. It is imported by tests only.
//
// The server programs are Debian's, in /usr/lib/postgresql/<version>/bin
// (the highest version there), or on PATH. A test that needs them skips
// when they are missing, unless SITROOM_REQUIRE_INTEGRATION is set, in
// which case it fails and names the Debian package to install.
//
// PostgreSQL refuses to run as root: as root the programs run as the
// `postgres` user, and the folders above the data dir are made
// traversable by it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// RequireEnv is the environment variable that turns a missing server
// binary from a skip into a failure.
const RequireEnv = "SITROOM_REQUIRE_INTEGRATION"

// Role and Database are the login role and the database a server is made
// with; the role owns the database.
const (
	Role     = "sitroom"
	Database = "noc"
)

// Server is a running PostgreSQL.
type Server struct {
	// URL is a libpq URL for Role on Database over loopback TCP, without
	// the password (sslmode=disable).
	URL string
	// PasswordFile holds Role's password (0600).
	PasswordFile string
	// Port is the TCP port on 127.0.0.1.
	Port int
	// Dir holds the data dir, the socket and the log.
	Dir string

	bin      string
	data     string
	sock     string
	logPath  string
	password string
	cred     *syscall.Credential

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

var dbSeq atomic.Int64

// binDir finds the folder of the server programs: the highest version
// under /usr/lib/postgresql, else the folder of `postgres` on PATH; "" when
// neither is there.
func binDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "postgres")) && isExec(filepath.Join(d, "initdb")) {
			return d
		}
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if d := filepath.Dir(p); isExec(filepath.Join(d, "initdb")) {
			return d
		}
	}
	return ""
}

func version(dir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(dir)), 64)
	return v
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// RequireBinary returns the folder of the PostgreSQL server programs.
// When they are missing the test is skipped, or fails when
// SITROOM_REQUIRE_INTEGRATION is set.
func RequireBinary(t testing.TB) string {
	t.Helper()
	if d := binDir(); d != "" {
		return d
	}
	hint := "postgres not found; install it with: apt-get install -y --no-install-recommends postgresql"
	if os.Getenv(RequireEnv) != "" {
		t.Fatalf("%s (%s is set, so integration tests may not skip)", hint, RequireEnv)
	}
	t.Skip(hint)
	return ""
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start runs a new server for the test, stopped when it ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := RequireBinary(t)
	dir := t.TempDir()
	s, err := start(bin, dir)
	if s != nil {
		t.Cleanup(s.Stop)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var shared struct {
	sync.Mutex
	s   *Server
	dir string
	err error
}

// Shared returns one server for every test of the test binary that calls
// it, started on first use and stopped by Main. Tests on it isolate their
// data with Database.
func Shared(t testing.TB) *Server {
	t.Helper()
	bin := RequireBinary(t)
	shared.Lock()
	defer shared.Unlock()
	if shared.s == nil && shared.err == nil {
		shared.dir, shared.err = os.MkdirTemp("", "pgtest")
		if shared.err == nil {
			shared.s, shared.err = start(bin, shared.dir)
		}
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.s
}

// Main runs the tests and stops the Shared server: call it from TestMain
// as os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	shared.Lock()
	defer shared.Unlock()
	if shared.s != nil {
		shared.s.Stop()
	}
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
	}
	return code
}

func start(bin, dir string) (*Server, error) {
	s := &Server{Dir: dir, bin: bin, data: filepath.Join(dir, "pg", "data"), sock: filepath.Join(dir, "pg")}
	if err := os.MkdirAll(s.sock, 0o700); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		// Every folder above the data dir must be traversable by postgres.
		for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
			if st, err := os.Stat(d); err == nil && st.Mode().Perm()&0o011 != 0o011 {
				_ = os.Chmod(d, st.Mode().Perm()|0o011)
			}
		}
		if err := os.Chown(s.sock, uid, gid); err != nil {
			return nil, err
		}
	}
	out, err := s.run(filepath.Join(bin, "initdb"), "-D", s.data, "-U", "postgres", "--auth-local=trust",
		"--auth-host=scram-sha-256", "--no-sync", "--locale=C", "-E", "UTF8")
	if err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	s.password = hex.EncodeToString(b)
	s.PasswordFile = filepath.Join(dir, "password")
	if err := os.WriteFile(s.PasswordFile, []byte(s.password+"\n"), 0o600); err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s.Port = freePort()
		if lastErr = s.launch(); lastErr == nil {
			break
		}
		s.Stop()
		if !strings.Contains(s.LogTail(4096), "in use") {
			return s, lastErr
		}
	}
	if lastErr != nil {
		return s, lastErr
	}
	s.URL = fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", Role, s.Port, Database)
	err = s.Super(context.Background(), "postgres",
		fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", Role, s.password),
		fmt.Sprintf("CREATE DATABASE %s OWNER %s TEMPLATE template0", Database, Role))
	if err != nil {
		return s, fmt.Errorf("creating the role and database: %w", err)
	}
	return s, nil
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = s.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if s.cred != nil {
		cmd.SysProcAttr.Credential = s.cred
	}
	return cmd
}

func (s *Server) run(name string, args ...string) ([]byte, error) {
	return s.command(name, args...).CombinedOutput()
}

// launch starts the server process and waits until it accepts
// connections.
func (s *Server) launch() error {
	s.logPath = filepath.Join(s.Dir, "postgres.log")
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := s.command(filepath.Join(s.bin, "postgres"), "-D", s.data, "-p", strconv.Itoa(s.Port), "-k", s.sock,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
		"-c", "full_page_writes=off", "-c", "max_connections=100")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(done)
	}()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("postgres exited early; log tail:\n%s", s.LogTail(2048))
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := s.superConn(ctx, "postgres")
		cancel()
		if err == nil {
			_ = c.Close(context.Background())
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("postgres not ready after 20s; log tail:\n%s", s.LogTail(2048))
}

func (s *Server) superConn(ctx context.Context, db string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable", s.sock, s.Port, db))
	if err != nil {
		return nil, err
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// Super runs statements as the superuser on database db, over the
// server's socket.
func (s *Server) Super(ctx context.Context, db string, stmts ...string) error {
	c, err := s.superConn(ctx, db)
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	for _, q := range stmts {
		if _, err := c.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// Database creates a fresh database owned by Role (from template0, so
// empty) for the test and returns its URL, without the password; the
// password file is PasswordFile.
func (s *Server) Database(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1))
	if err := s.Super(context.Background(), "postgres",
		fmt.Sprintf("CREATE DATABASE %s OWNER %s TEMPLATE template0", name, Role)); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", Role, s.Port, name)
}

// Password returns Role's password, for tests that check it never shows.
func (s *Server) Password() string { return s.password }

// Stop ends the server with a fast shutdown (SIGINT) and waits for it to
// exit; it is idempotent.
func (s *Server) Stop() {
	s.signal(syscall.SIGINT, 10*time.Second)
}

// Kill ends the server and its backends with SIGKILL, as a crash does.
func (s *Server) Kill(t testing.TB) {
	t.Helper()
	s.signal(syscall.SIGKILL, 10*time.Second)
}

// Restart stops the server (if it runs) and starts it again on the same
// data dir and port; it returns once the server accepts connections.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	var err error
	for attempt := 0; attempt < 50; attempt++ {
		if err = s.launch(); err == nil {
			return
		}
		// After a kill, the old backends may hold the shared memory a moment.
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("postgres did not restart: %v", err)
}

func (s *Server) signal(sig syscall.Signal, wait time.Duration) {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	if sig == syscall.SIGKILL {
		_ = syscall.Kill(-cmd.Process.Pid, sig) // the postmaster and its backends
	} else {
		_ = cmd.Process.Signal(sig)
	}
	select {
	case <-done:
	case <-time.After(wait):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// LogTail returns the last n bytes of the server's log.
func (s *Server) LogTail(n int) string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
