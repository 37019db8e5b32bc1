// Package hostiletest reads the hostile text corpus (testdata/hostile/
// corpus.txt): strings an upstream might send that must be drawn, stored
// and passed on inert — tview tags, terminal escape sequences, bidi and
// zero-width characters, invalid UTF-8, megabyte values. The ui package's
// tests generate the file (TestHostileCorpusFile); every package that
// shows or forwards upstream text reads it from here. For tests only.
package hostiletest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// File is the corpus's path relative to the module root.
const File = "testdata/hostile/corpus.txt"

// Path returns the corpus's absolute path, found from the test's working
// directory up to the module root (the directory holding go.mod).
func Path(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, filepath.FromSlash(File))
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// Corpus returns the corpus's strings: one Go-quoted string per line,
// `"s" x N` for s repeated N times; blank lines and lines starting with #
// are skipped.
func Corpus(t testing.TB) []string {
	t.Helper()
	f, err := os.Open(Path(t))
	if err != nil {
		t.Fatalf("%v (go test ./ui -run TestHostileCorpusFile -update writes it)", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		n := 1
		if i := strings.LastIndex(line, `" x `); i >= 0 {
			if _, err := fmt.Sscan(line[i+4:], &n); err != nil {
				t.Fatalf("corpus line %q: bad repeat count: %v", line, err)
			}
			line = line[:i+1]
		}
		s, err := strconv.Unquote(line)
		if err != nil {
			t.Fatalf("corpus line %q: %v", line, err)
		}
		out = append(out, strings.Repeat(s, n))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
