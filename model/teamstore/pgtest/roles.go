package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

var roleSeq atomic.Int64

// UniqueName returns base with a suffix no other call of this test binary
// returns: roles are the whole server's, shared by every test's database.
func UniqueName(base string) string {
	return fmt.Sprintf("%s_%d_%d", base, os.Getpid(), roleSeq.Add(1))
}

// AddRole creates a login role name with a random password (scram),
// a member of each of groups, and returns a URL for it on the database
// dbURL names (over the same host, port and sslmode) and its password
// file (0600). The password is never in the URL.
func (s *Server) AddRole(t testing.TB, dbURL, name string, groups ...string) (roleURL, passwordFile string) {
	t.Helper()
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	pw := hex.EncodeToString(b)
	stmt := fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", ident(name), pw)
	if len(groups) > 0 {
		quoted := make([]string, len(groups))
		for i, g := range groups {
			quoted[i] = ident(g)
		}
		stmt += " IN ROLE " + strings.Join(quoted, ", ")
	}
	if err := s.Super(context.Background(), "postgres", stmt); err != nil {
		t.Fatal(err)
	}
	passwordFile = filepath.Join(t.TempDir(), name+".password")
	if err := os.WriteFile(passwordFile, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(name)
	return u.String(), passwordFile
}

// DBName returns the name of the database a URL names.
func DBName(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

// SuperURL is a key=value connection string for the superuser on
// database db over the server's socket (trust: no password).
func (s *Server) SuperURL(db string) string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable", s.sock, s.Port, db)
}

func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
