package pgtest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// connectAs connects with url (and password, if any) and says who the
// server took it for and whether the connection is encrypted.
func connectAs(ctx context.Context, url, password string) (user string, ssl bool, err error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return "", false, err
	}
	cfg.Password = password
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return "", false, err
	}
	defer c.Close(context.Background())
	err = c.QueryRow(ctx, "SELECT current_user::text, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&user, &ssl)
	return user, ssl, err
}

func TestTLSCertificateAndPasswordLogins(t *testing.T) {
	s := StartTLS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Super(ctx, "postgres", "CREATE ROLE ops1 LOGIN", "CREATE ROLE ops2 LOGIN"); err != nil {
		t.Fatal(err)
	}
	db := s.NewDatabase(t)
	_, _ = s.ClientCert(t, "ops1")
	cert2, key2 := s.ClientCert(t, "ops2")

	user, ssl, err := connectAs(ctx, s.URL("ops1", db), "")
	if err != nil || user != "ops1" || !ssl {
		t.Fatalf("ops1 with its certificate: user %q, ssl %v, err %v; want ops1 over TLS", user, ssl, err)
	}
	// ops2's certificate does not log in as ops1.
	if user, _, err := connectAs(ctx, s.CertURL("ops1", db, cert2, key2), ""); err == nil {
		t.Fatalf("ops2's certificate logged in as %q, want a refusal", user)
	} else if !strings.Contains(err.Error(), "certificate authentication failed") {
		t.Errorf("ops2's certificate as ops1: %v, want certificate authentication failed", err)
	}
	// A certificate role cannot fall back to anything else: no certificate, no login.
	if _, _, err := connectAs(ctx, s.baseURL("ops1", db), "x"); err == nil {
		t.Fatal("ops1 logged in without its certificate")
	}
	// The password role over TLS, with its password and not with another.
	if user, ssl, err := connectAs(ctx, s.URL(Role, db), s.Password()); err != nil || user != Role || !ssl {
		t.Fatalf("%s with its password: user %q, ssl %v, err %v", Role, user, ssl, err)
	}
	if _, _, err := connectAs(ctx, s.URL(Role, db), "wrong"); err == nil {
		t.Fatal("a wrong password logged in")
	}
	// Nothing over TCP without TLS.
	if _, _, err := connectAs(ctx, strings.Replace(s.Server.URL, "/"+Database, "/"+db, 1), s.Password()); err == nil {
		t.Fatal("a connection without TLS was accepted")
	}
	// A server certificate the client does not trust is refused by the client.
	if _, _, err := connectAs(ctx, strings.Replace(s.URL(Role, db), "sslrootcert=", "sslrootcert=/nonexistent", 1), s.Password()); err == nil {
		t.Fatal("connected without being able to verify the server")
	}
	// libpq (psql) takes the same URL: it also checks that the key is the
	// user's alone and that the server's name is in its certificate.
	if psql, err := exec.LookPath("psql"); err == nil {
		cmd := exec.CommandContext(ctx, psql, s.URL("ops1", db), "-XAtc", "SELECT current_user || ' ' || ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
		cmd.Env = append(os.Environ(), "PGPASSWORD=", "PGPASSFILE=/nonexistent")
		out, err := cmd.CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "ops1 true" {
			t.Errorf("psql as ops1 with its certificate: %v: %s", err, out)
		}
	}
	// TLS survives a restart.
	s.Restart(t)
	if user, _, err := connectAs(ctx, s.URL("ops1", db), ""); err != nil || user != "ops1" {
		t.Fatalf("ops1 after a restart: %q, %v", user, err)
	}
}
