// Package bintest builds the sitroom binary from the module root and runs
// it, to completion or in a pseudo-terminal, for the tests that need the
// real process: its exit codes and stderr, kill -9, terminals, the soak.
// Imported by tests only.
package bintest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	once    sync.Once
	binPath string
	binErr  error
	binDir  string
)

// ModuleRoot is the directory holding the module's go.mod.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the sitroom module")
	}
	return filepath.Dir(mod), nil
}

// Build builds the sitroom binary into out with go build's extra flags
// (e.g. -race).
func Build(out string, flags ...string) error {
	root, err := ModuleRoot()
	if err != nil {
		return err
	}
	args := append(append([]string{"build"}, flags...), "-o", out, ".")
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return nil
}

// Binary builds the binary once per test process and returns its path;
// Main removes it when the tests are done.
func Binary(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		binDir, binErr = os.MkdirTemp("", "sitroom-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "sitroom")
		binErr = Build(binPath)
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// Main runs the tests and removes the binary Binary built; call it from
// TestMain: os.Exit(bintest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	return code
}

// Run runs the binary with args to completion (at most 30 s) and returns
// its exit code, stdout and stderr.
func Run(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running sitroom %v: %v", args, err)
	}
	return code, out.String(), errb.String()
}
