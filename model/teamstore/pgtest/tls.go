package pgtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TLSServer is a running PostgreSQL that takes connections over TLS only
// (ssl=on, `hostnossl … reject`), with a test certificate authority of
// its own: the server's certificate (for 127.0.0.1, ::1 and localhost)
// and the operators' client certificates are issued by it. A role a
// certificate was issued for (ClientCert) logs in with it (`hostssl …
// cert`: the certificate's CN is the role); any other role logs in with
// its password (scram-sha-256). The superuser still connects over the
// server's socket (Super).
type TLSServer struct {
	*Server
	// CAFile is the test CA's certificate (PEM): the server trusts the
	// client certificates it issued, and clients verify the server with it
	// (sslrootcert).
	CAFile string

	dir    string
	caKey  *ecdsa.PrivateKey
	caCert *x509.Certificate

	mu    sync.Mutex
	certs map[string][2]string // role → certificate and key files
}

// StartTLS runs a new server for the test with TLS on (EnableTLS),
// stopped when the test ends.
func StartTLS(t testing.TB) *TLSServer {
	t.Helper()
	return EnableTLS(t, Start(t))
}

// EnableTLS turns TLS on for s, a server of the test's own (not Shared:
// it changes how every role logs in): it makes a CA, issues the server's
// certificate, sets ssl=on with ssl_cert_file, ssl_key_file and
// ssl_ca_file (ALTER SYSTEM, kept across Restart), rewrites pg_hba.conf
// so TCP connections must use TLS, and reloads the configuration.
func EnableTLS(t testing.TB, s *Server) *TLSServer {
	t.Helper()
	ts, err := enableTLS(s)
	if err != nil {
		t.Fatalf("enabling TLS: %v", err)
	}
	return ts
}

func enableTLS(s *Server) (*TLSServer, error) {
	ts := &TLSServer{Server: s, dir: filepath.Join(s.Dir, "tls"), certs: map[string][2]string{}}
	if err := os.MkdirAll(ts.dir, 0o711); err != nil {
		return nil, err
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "sitroom test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(48 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	if ts.caCert, err = x509.ParseCertificate(der); err != nil {
		return nil, err
	}
	ts.caKey = caKey
	ts.CAFile = filepath.Join(ts.dir, "ca.crt")
	if err := writePEM(ts.CAFile, "CERTIFICATE", der, 0o644); err != nil {
		return nil, err
	}
	srvCert, srvKey, err := ts.issue("server", &x509.Certificate{
		Subject:     pkix.Name{CommonName: "localhost"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return nil, err
	}
	// The server reads its key as the postgres user, which must own it
	// (0600): when the tests run as root, give the files to postgres.
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, err
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, f := range []string{srvCert, srvKey, ts.CAFile} {
			if err := os.Chown(f, uid, gid); err != nil {
				return nil, err
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Super(ctx, "postgres",
		"ALTER SYSTEM SET ssl = on",
		"ALTER SYSTEM SET ssl_cert_file = "+quote(srvCert),
		"ALTER SYSTEM SET ssl_key_file = "+quote(srvKey),
		"ALTER SYSTEM SET ssl_ca_file = "+quote(ts.CAFile),
		"ALTER SYSTEM SET ssl_min_protocol_version = 'TLSv1.2'"); err != nil {
		return nil, err
	}
	if err := ts.reload(ctx); err != nil {
		return nil, err
	}
	return ts, nil
}

// ClientCert issues a client certificate with CN=role from the test CA
// (key 0600: libpq refuses a key others may read) and lets role log in
// with it, and only with it: pg_hba.conf gains `hostssl all role
// 127.0.0.1/32 cert`. The role itself is the test's to create. Asking
// again for the same role returns the same files.
func (ts *TLSServer) ClientCert(t testing.TB, role string) (certFile, keyFile string) {
	t.Helper()
	ts.mu.Lock()
	f, ok := ts.certs[role]
	ts.mu.Unlock()
	if ok {
		return f[0], f[1]
	}
	certFile, keyFile, err := ts.issue("client-"+safeName(role), &x509.Certificate{
		Subject:     pkix.Name{CommonName: role},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		t.Fatalf("issuing a certificate for %s: %v", role, err)
	}
	ts.mu.Lock()
	ts.certs[role] = [2]string{certFile, keyFile}
	ts.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := ts.reload(ctx); err != nil {
		t.Fatalf("letting %s log in with a certificate: %v", role, err)
	}
	return certFile, keyFile
}

// URL is a libpq URL for role on database db over TLS with the server
// verified against the test CA (sslmode=verify-full, sslrootcert); when
// a certificate was issued for role, it carries it (sslcert, sslkey).
// It never holds a password.
func (ts *TLSServer) URL(role, db string) string {
	ts.mu.Lock()
	f, ok := ts.certs[role]
	ts.mu.Unlock()
	if !ok {
		return ts.baseURL(role, db)
	}
	return ts.CertURL(role, db, f[0], f[1])
}

// CertURL is URL with the given client certificate and key, which need
// not be role's own (a test of one operator's certificate presented as
// another role).
func (ts *TLSServer) CertURL(role, db, certFile, keyFile string) string {
	return ts.baseURL(role, db) + "&sslcert=" + queryPath(certFile) + "&sslkey=" + queryPath(keyFile)
}

func (ts *TLSServer) baseURL(role, db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=verify-full&sslrootcert=%s",
		url.PathEscape(role), ts.Port, url.PathEscape(db), queryPath(ts.CAFile))
}

// queryPath is a file path as a URL query value, its slashes kept (as a
// person writes one).
func queryPath(p string) string { return strings.ReplaceAll(url.QueryEscape(p), "%2F", "/") }

// NewDatabase creates a fresh database owned by Role, as Database does,
// and returns its name (for URL).
func (ts *TLSServer) NewDatabase(t testing.TB) string {
	t.Helper()
	u, err := url.Parse(ts.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u.Path, "/")
}

// hba is pg_hba.conf for the TLS server: the superuser over the socket,
// the certificate roles with their certificate, everyone else with a
// password, and nothing over TCP without TLS.
func (ts *TLSServer) hba() string {
	var b strings.Builder
	b.WriteString("# written by pgtest (tls.go)\nlocal all all trust\n")
	ts.mu.Lock()
	for role := range ts.certs {
		fmt.Fprintf(&b, "hostssl all %q 127.0.0.1/32 cert\n", role)
		fmt.Fprintf(&b, "hostssl all %q ::1/128 cert\n", role)
	}
	ts.mu.Unlock()
	b.WriteString("hostssl all all 127.0.0.1/32 scram-sha-256\nhostssl all all ::1/128 scram-sha-256\n")
	b.WriteString("hostnossl all all 127.0.0.1/32 reject\nhostnossl all all ::1/128 reject\n")
	return b.String()
}

// reload writes pg_hba.conf, has the server read its configuration again
// and waits until new connections see it: a new backend's
// pg_conf_load_time is the postmaster's last reload, and the postmaster
// reads postgresql.conf and pg_hba.conf in one go before it forks again.
func (ts *TLSServer) reload(ctx context.Context) error {
	c, err := ts.superConn(ctx, "postgres")
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	var hbaFile string
	if err := c.QueryRow(ctx, "SHOW hba_file").Scan(&hbaFile); err != nil {
		return err
	}
	if err := os.WriteFile(hbaFile, []byte(ts.hba()), 0o600); err != nil {
		return err
	}
	var before time.Time
	if err := c.QueryRow(ctx, "SELECT pg_conf_load_time()").Scan(&before); err != nil {
		return err
	}
	if _, err := c.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
		return err
	}
	for {
		nc, err := ts.superConn(ctx, "postgres")
		if err != nil {
			return err
		}
		var loaded time.Time
		err = nc.QueryRow(ctx, "SELECT pg_conf_load_time()").Scan(&loaded)
		_ = nc.Close(context.Background())
		if err != nil {
			return err
		}
		if loaded.After(before) {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the server did not reload its configuration: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	var errs []string
	rows, err := c.Query(ctx, "SELECT line_number, error FROM pg_hba_file_rules WHERE error IS NOT NULL")
	if err != nil {
		return err
	}
	for rows.Next() {
		var n int
		var e string
		if err := rows.Scan(&n, &e); err != nil {
			return err
		}
		errs = append(errs, fmt.Sprintf("line %d: %s", n, e))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(errs) > 0 {
		return fmt.Errorf("pg_hba.conf: %s", strings.Join(errs, "; "))
	}
	var ssl string
	if err := c.QueryRow(ctx, "SHOW ssl").Scan(&ssl); err != nil {
		return err
	}
	if ssl != "on" {
		return fmt.Errorf("ssl is %s after the reload; log tail:\n%s", ssl, ts.LogTail(2048))
	}
	return nil
}

// issue makes a key and a certificate signed by the CA from tmpl, written
// as name.crt and name.key (0600) in the TLS folder.
func (ts *TLSServer) issue(name string, tmpl *x509.Certificate) (certFile, keyFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	now := time.Now()
	tmpl.SerialNumber = serial()
	tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Hour), now.Add(24*time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ts.caCert, &key.PublicKey, ts.caKey)
	if err != nil {
		return "", "", err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	certFile, keyFile = filepath.Join(ts.dir, name+".crt"), filepath.Join(ts.dir, name+".key")
	if err := writePEM(certFile, "CERTIFICATE", der, 0o644); err != nil {
		return "", "", err
	}
	if err := writePEM(keyFile, "PRIVATE KEY", kder, 0o600); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

func writePEM(path, kind string, der []byte, mode os.FileMode) error {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), mode); err != nil {
		return err
	}
	return os.Chmod(path, mode) // WriteFile keeps an existing file's mode
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n.Add(n, big.NewInt(1))
}

// quote is a PostgreSQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// safeName keeps a role name usable in a file name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, s)
}
