package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	yaml2 "go.yaml.in/yaml/v2"
	yaml3 "go.yaml.in/yaml/v3"
)

// DefaultPath is where the dashboard looks for its config when --config is
// not given: $XDG_CONFIG_HOME/sitroom/config.yaml, falling back to
// ~/.config/sitroom/config.yaml.
func DefaultPath() string {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		home, err := os.UserHomeDir()
		if err != nil {
			home = "."
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "sitroom", "config.yaml")
}

// Load reads, decodes and validates the config file at path. Relative file
// paths inside it (password_file, ca_file, runbooks, ...) resolve against
// the file's directory. Errors name the file, the line and the key path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	c, err := Parse(data, filepath.Dir(abs))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.path = path
	c.mode = st.Mode().Perm()
	return c, nil
}

// Parse decodes and validates a config document. baseDir is the directory
// relative file paths resolve against (usually the config file's own).
//
// Decoding is strict: an unknown key is an error naming its key path and
// line ("line 7: sources[1].basic_auth.usernme: unknown key"), as is a value
// of the wrong shape ("sources[0].interval: bad duration \"10x\""). All
// problems found are returned together (errors.Join). No secret from the
// document appears in any error.
func Parse(data []byte, baseDir string) (*Config, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("config is empty: at least one source is needed")
	}
	var doc yaml3.Node
	if err := yaml3.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError(data, err)
	}
	if doc.Kind != yaml3.DocumentNode || len(doc.Content) == 0 {
		return nil, errors.New("config is empty: at least one source is needed")
	}
	w := newWalker()
	w.walk(doc.Content[0], reflect.TypeFor[Config](), "", 0)
	if len(w.errs) > 0 {
		return nil, scrub(errors.Join(w.errs...), w.secrets)
	}
	c := Default()
	if err := yaml2.UnmarshalStrict(data, c); err != nil {
		return nil, scrub(locate(err, w.lines), w.secrets)
	}
	c.baseDir = baseDir
	c.lines = w.lines
	if c.OutageThreshold == "" {
		c.OutageThreshold = "critical"
	}
	for i := range c.Sources {
		if baseDir != "" {
			c.Sources[i].HTTP.SetDirectory(baseDir)
		}
	}
	for i := range c.Webhooks {
		if baseDir != "" {
			c.Webhooks[i].setDirectory(baseDir)
		}
	}
	c.notifyDirectories(baseDir)
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

var (
	v3LineRe = regexp.MustCompile(`^yaml: line (\d+): `)
	v2LineRe = regexp.MustCompile(`line (\d+): `)
)

// syntaxError rewrites a YAML parse error as "line N: …", with a hint
// when the line is indented with a tab.
func syntaxError(data []byte, err error) error {
	msg := err.Error()
	line := 0
	if m := v3LineRe.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	if tabLine := firstTabIndent(data); tabLine > 0 && (line == 0 || tabLine <= line+1) {
		return &fieldError{line: tabLine, msg: "indented with a tab; YAML indents with spaces only (" + msg + ")"}
	}
	return &fieldError{line: line, msg: "not valid YAML: " + msg}
}

func firstTabIndent(data []byte) int {
	for i, l := range bytes.Split(data, []byte("\n")) {
		trimmed := bytes.TrimLeft(l, " ")
		if len(trimmed) > 0 && trimmed[0] == '\t' {
			return i + 1
		}
	}
	return 0
}

// locate adds key paths to the "line N:" errors of the yaml.v2 decoder.
func locate(err error, lines map[string]int) error {
	byLine := map[int]string{}
	for p, l := range lines {
		if cur, ok := byLine[l]; !ok || len(p) > len(cur) {
			byLine[l] = p
		}
	}
	var te *yaml2.TypeError
	if !errors.As(err, &te) {
		return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var errs []error
	for _, m := range te.Errors {
		fe := &fieldError{msg: m}
		if sm := v2LineRe.FindStringSubmatch(m); sm != nil {
			fe.line, _ = strconv.Atoi(sm[1])
			fe.msg = strings.TrimPrefix(m, sm[0])
			fe.path = byLine[fe.line]
		}
		errs = append(errs, fe)
	}
	return errors.Join(errs...)
}

// scrub replaces every secret in err's text with <secret>.
func scrub(err error, secrets []string) error {
	if err == nil || len(secrets) == 0 {
		return err
	}
	msg := err.Error()
	clean := scrubString(msg, secrets)
	if clean == msg {
		return err
	}
	return errors.New(clean)
}

func scrubString(s string, secrets []string) string {
	ss := append([]string(nil), secrets...)
	sort.Slice(ss, func(i, j int) bool { return len(ss[i]) > len(ss[j]) })
	for _, sec := range ss {
		if sec != "" && sec != secretToken {
			s = strings.ReplaceAll(s, sec, secretToken)
		}
	}
	return s
}

const secretToken = "<secret>"
