package model

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// MatchOp is a label matcher operator in Prometheus syntax.
type MatchOp string

const (
	MatchEqual     MatchOp = "="
	MatchNotEqual  MatchOp = "!="
	MatchRegexp    MatchOp = "=~"
	MatchNotRegexp MatchOp = "!~"
)

// Matcher is one Prometheus-style label matcher: name op "value".
type Matcher struct {
	Name  string
	Op    MatchOp
	Value string
	re    *regexp.Regexp
}

// Matches reports whether the label set satisfies the matcher. A missing
// label has the empty value, as in Prometheus.
func (m *Matcher) Matches(labels map[string]string) bool {
	v := labels[m.Name]
	switch m.Op {
	case MatchEqual:
		return v == m.Value
	case MatchNotEqual:
		return v != m.Value
	case MatchRegexp:
		return m.re.MatchString(v)
	case MatchNotRegexp:
		return !m.re.MatchString(v)
	}
	return false
}

// String renders the matcher back in Prometheus syntax.
func (m *Matcher) String() string {
	return m.Name + string(m.Op) + strconv.Quote(m.Value)
}

// ParseMatchers parses one matcher expression in Prometheus syntax: either a
// single matcher (`service="checkout"`) or a brace list
// (`{service="checkout", env!~"dev|test"}`). Values may be double-quoted,
// single-quoted or back-quoted; regexps are anchored as in PromQL.
func ParseMatchers(s string) ([]*Matcher, error) {
	p := &matcherParser{s: s}
	p.skipSpace()
	braced := p.peek() == '{'
	if braced {
		p.pos++
	}
	var out []*Matcher
	for {
		p.skipSpace()
		if braced && p.peek() == '}' {
			p.pos++
			break
		}
		if p.eof() {
			if braced {
				return nil, p.errorf("missing closing }")
			}
			break
		}
		m, err := p.matcher()
		if err != nil {
			return nil, err
		}
		out = append(out, m)
		p.skipSpace()
		if p.peek() == ',' {
			p.pos++
			continue
		}
		if braced {
			if p.eof() {
				return nil, p.errorf("missing closing }")
			}
			if p.peek() != '}' {
				return nil, p.errorf("expected , or }")
			}
			continue
		}
		if !p.eof() {
			return nil, p.errorf("unexpected %q", string(p.peek()))
		}
	}
	p.skipSpace()
	if !p.eof() {
		return nil, p.errorf("unexpected %q after matchers", string(p.peek()))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no matcher in %q", s)
	}
	return out, nil
}

type matcherParser struct {
	s   string
	pos int
}

func (p *matcherParser) eof() bool { return p.pos >= len(p.s) }
func (p *matcherParser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.s[p.pos]
}
func (p *matcherParser) skipSpace() {
	for !p.eof() && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}
func (p *matcherParser) errorf(format string, args ...any) error {
	return fmt.Errorf("%s at position %d in %q", fmt.Sprintf(format, args...), p.pos+1, p.s)
}

func (p *matcherParser) matcher() (*Matcher, error) {
	start := p.pos
	for !p.eof() {
		c := rune(p.s[p.pos])
		if c == '_' || unicode.IsLetter(c) || (p.pos > start && unicode.IsDigit(c)) {
			p.pos++
			continue
		}
		break
	}
	if p.pos == start {
		return nil, p.errorf("expected a label name")
	}
	m := &Matcher{Name: p.s[start:p.pos]}
	p.skipSpace()
	switch {
	case strings.HasPrefix(p.s[p.pos:], "=~"):
		m.Op = MatchRegexp
	case strings.HasPrefix(p.s[p.pos:], "!~"):
		m.Op = MatchNotRegexp
	case strings.HasPrefix(p.s[p.pos:], "!="):
		m.Op = MatchNotEqual
	case strings.HasPrefix(p.s[p.pos:], "="):
		m.Op = MatchEqual
	default:
		return nil, p.errorf("expected one of = != =~ !~ after %q", m.Name)
	}
	p.pos += len(m.Op)
	p.skipSpace()
	q := p.peek()
	if q != '"' && q != '\'' && q != '`' {
		return nil, p.errorf("expected a quoted value after %s%s", m.Name, m.Op)
	}
	end := p.pos + 1
	for end < len(p.s) && p.s[end] != q {
		if p.s[end] == '\\' && q != '`' {
			end++
		}
		end++
	}
	if end >= len(p.s) {
		return nil, p.errorf("unterminated value")
	}
	raw := p.s[p.pos : end+1]
	var err error
	switch q {
	case '"':
		m.Value, err = strconv.Unquote(raw)
	case '\'':
		m.Value, err = strconv.Unquote(`"` + strings.ReplaceAll(strings.ReplaceAll(raw[1:len(raw)-1], `\'`, `'`), `"`, `\"`) + `"`)
	default:
		m.Value = raw[1 : len(raw)-1]
	}
	if err != nil {
		return nil, p.errorf("bad escape in value %s", raw)
	}
	p.pos = end + 1
	if m.Op == MatchRegexp || m.Op == MatchNotRegexp {
		m.re, err = regexp.Compile("^(?:" + m.Value + ")$")
		if err != nil {
			return nil, fmt.Errorf("bad regexp in %s: %v", m.String(), err)
		}
	}
	return m, nil
}

// MatchAll reports whether every matcher matches.
func MatchAll(ms []*Matcher, labels map[string]string) bool {
	for _, m := range ms {
		if !m.Matches(labels) {
			return false
		}
	}
	return true
}
