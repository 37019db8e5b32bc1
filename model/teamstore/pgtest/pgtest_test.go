package pgtest

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// The server takes the role's password from the file, not the URL, and
// survives a kill and a restart with its data.
func TestStartKillRestart(t *testing.T) {
	s := Start(t)
	if strings.Contains(s.URL, s.Password()) {
		t.Fatalf("the URL %q holds the password", s.URL)
	}
	st, err := os.Stat(s.PasswordFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %v %v", st, err)
	}
	connect := func() (*pgx.Conn, error) {
		cfg, err := pgx.ParseConfig(s.URL)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Password = s.Password()
		return pgx.ConnectConfig(context.Background(), cfg)
	}
	c, err := connect()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(context.Background(), "CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)"); err != nil {
		t.Fatal(err)
	}
	c.Close(context.Background())
	s.Kill(t)
	if _, err := connect(); err == nil {
		t.Fatal("connected to a killed server")
	}
	s.Restart(t)
	c, err = connect()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var v int
	if err := c.QueryRow(context.Background(), "SELECT v FROM kept").Scan(&v); err != nil || v != 7 {
		t.Fatalf("after the restart: %d, %v", v, err)
	}
	cfg, _ := pgx.ParseConfig(s.URL)
	cfg.Password = "wrong"
	if _, err := pgx.ConnectConfig(context.Background(), cfg); err == nil {
		t.Fatal("a wrong password was accepted")
	}
}
