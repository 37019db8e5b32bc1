package ui

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestResolveRunbook(t *testing.T) {
	dir := "/srv/runbooks"
	base := "https://git.example/noc/runbooks/blob/main/"
	cases := []struct {
		ref      string
		trusted  bool
		dir      string
		path     string
		url      string
		errorHas string
	}{
		{ref: "db/lag.md", dir: dir, path: "/srv/runbooks/db/lag.md"},
		{ref: "  db/lag.md ", dir: dir, path: "/srv/runbooks/db/lag.md"},
		{ref: "/srv/runbooks/db/lag.md", dir: dir, path: "/srv/runbooks/db/lag.md"},
		{ref: "file:///srv/runbooks/db/lag.md", dir: dir, path: "/srv/runbooks/db/lag.md"},
		{ref: base + "db/lag.md#steps", dir: dir, path: "/srv/runbooks/db/lag.md"},
		{ref: base + "../../../../etc/passwd", dir: dir, errorHas: "outside"},
		{ref: "../etc/passwd", dir: dir, errorHas: "outside"},
		{ref: "db/../../etc/passwd", dir: dir, errorHas: "outside"},
		{ref: "/etc/passwd", dir: dir, errorHas: "outside"},
		{ref: "file:///etc/passwd", dir: dir, errorHas: "outside"},
		{ref: "/etc/sitroom/runbooks/checkout.md", trusted: true, dir: dir, path: "/etc/sitroom/runbooks/checkout.md"},
		{ref: "/etc/sitroom/runbooks/checkout.md", trusted: true, path: "/etc/sitroom/runbooks/checkout.md"},
		{ref: "db/lag.md", errorHas: "no runbooks_dir"},
		{ref: "https://wiki.example/Runbooks/Checkout?x=1", dir: dir, url: "https://wiki.example/Runbooks/Checkout?x=1"},
		{ref: "javascript://alert(1)", dir: dir, errorHas: "not an http(s) URL"},
		{ref: "", dir: dir, errorHas: "no runbook"},
	}
	for _, c := range cases {
		got, err := resolveRunbook(c.ref, c.dir, base, c.trusted)
		if c.errorHas != "" {
			if err == nil || !strings.Contains(err.Error(), c.errorHas) {
				t.Errorf("%q: got %+v, %v; want an error with %q", c.ref, got, err, c.errorHas)
			}
			continue
		}
		if err != nil || got.path != c.path || got.url != c.url {
			t.Errorf("%q: got %+v, %v; want path %q url %q", c.ref, got, err, c.path, c.url)
		}
	}
}

// An alert's runbook cannot reach outside runbooks_dir through a symlink,
// nor block the UI on a FIFO; a catalog runbook (from the config) may
// live anywhere.
func TestReadRunbookRefusesEscapes(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "runbooks")
	outside := filepath.Join(root, "secret.md")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(outside, []byte("# secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ok.md"), []byte("# ok"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "link.md")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.md"), 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err := readRunbook(filepath.Join(dir, "ok.md"), dir, false); err != nil || s != "# ok" {
		t.Errorf("a runbook in the dir: %q, %v", s, err)
	}
	if s, err := readRunbook(filepath.Join(dir, "link.md"), dir, false); err == nil {
		t.Errorf("a symlink out of the dir was followed: %q", s)
	}
	if _, err := readRunbook(filepath.Join(dir, "fifo.md"), dir, false); err == nil || !strings.Contains(err.Error(), "regular") {
		t.Errorf("a FIFO was opened: %v", err)
	}
	if s, err := readRunbook(outside, dir, true); err != nil || s != "# secret" {
		t.Errorf("a catalog runbook outside the dir: %q, %v", s, err)
	}
}
