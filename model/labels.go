package model

import (
	"encoding/json"
	"hash/maphash"
	"iter"
	"slices"
	"strconv"
	"strings"
)

// Labels is an immutable set of name/value pairs sorted by name: an
// alert's labels, or its annotations. It holds the whole set in one
// string, so a set costs one allocation and no per-pair headers, and
// copying a Labels copies one string header: a signal shares its row's
// set. Each name and value in it is a reference into the process's
// symbol table (see symbols) or, for a string the table does not hold,
// its length and bytes: names and the values that repeat across sets
// cost a byte or two each. The zero value is the empty set. Names are
// unique; the constructors keep the last value given for a name.
type Labels struct {
	data string
}

// LabelsFromMap builds a set from m (nil or empty: the empty set).
func LabelsFromMap(m map[string]string) Labels {
	if len(m) == 0 {
		return Labels{}
	}
	var small [16]string
	names := small[:0]
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	var spairs [32]string
	pairs := spairs[:0]
	for _, k := range names {
		pairs = append(pairs, k, m[k])
	}
	return encodeLabels(pairs)
}

// encodeLabels builds a set from pairs sorted by name without repeats.
func encodeLabels(pairs []string) Labels {
	if len(pairs) < 2 {
		return Labels{}
	}
	var buf [256]byte
	return Labels{data: string(symbols.encode(buf[:0], pairs))}
}

// LabelsFromPairs builds a set from name, value, name, value…; a name
// given twice keeps its last value. An odd trailing name is ignored.
func LabelsFromPairs(pairs ...string) Labels {
	np := len(pairs) / 2
	if np == 0 {
		return Labels{}
	}
	var small [16]int
	idx := small[:0]
	for i := range np {
		idx = append(idx, i)
	}
	// Stable: of equal names, the last given sorts last and wins below.
	slices.SortStableFunc(idx, func(a, b int) int { return strings.Compare(pairs[2*a], pairs[2*b]) })
	var spairs [32]string
	sorted := spairs[:0]
	for j, i := range idx {
		if j+1 < len(idx) && pairs[2*idx[j+1]] == pairs[2*i] {
			continue
		}
		sorted = append(sorted, pairs[2*i], pairs[2*i+1])
	}
	return encodeLabels(sorted)
}

// SortedLabels builds a set from pairs (name, value, …) already sorted
// by name without repeats, as a stored set is: the caller vouches for the
// order (LabelsFromPairs sorts).
func SortedLabels(pairs ...string) Labels {
	return encodeLabels(pairs)
}

// str reads the name or value referred to at i with the symbol table
// tab, and returns it and the index after it.
func (l Labels) str(tab []string, i int) (string, int) {
	r, w := int(l.data[i]), 1
	if r >= 0x80 {
		r, w = uvarint(l.data, i)
	}
	i += w
	if r&1 == 0 {
		return tab[r>>1], i
	}
	n := r >> 1
	return l.data[i : i+n], i + n
}

// next reads the pair at i and returns it and the index after it.
func (l Labels) next(tab []string, i int) (name, value string, j int) {
	name, i = l.str(tab, i)
	value, i = l.str(tab, i)
	return name, value, i
}

func uvarint(s string, i int) (int, int) {
	var x uint64
	var shift uint
	for w := 0; ; w++ {
		c := s[i+w]
		if c < 0x80 {
			return int(x | uint64(c)<<shift), w + 1
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
}

// Get returns the value of name, or "" when the set has no such label.
func (l Labels) Get(name string) string {
	v, _ := l.Lookup(name)
	return v
}

// Lookup returns the value of name and whether the set has it.
func (l Labels) Lookup(name string) (string, bool) {
	if l.data == "" {
		return "", false
	}
	tab := symbols.table()
	var k string
	for i := 0; i < len(l.data); {
		k, i = l.str(tab, i)
		if k == name {
			v, _ := l.str(tab, i)
			return v, true
		}
		if k > name {
			break
		}
		// Skip the value.
		r, w := int(l.data[i]), 1
		if r >= 0x80 {
			r, w = uvarint(l.data, i)
		}
		i += w
		if r&1 == 1 {
			i += r >> 1
		}
	}
	return "", false
}

// Has reports whether the set has a label called name.
func (l Labels) Has(name string) bool {
	_, ok := l.Lookup(name)
	return ok
}

// Len is the number of pairs.
func (l Labels) Len() int {
	n := 0
	tab := symbols.table()
	for i := 0; i < len(l.data); n++ {
		_, _, i = l.next(tab, i)
	}
	return n
}

// IsEmpty reports whether the set has no pairs.
func (l Labels) IsEmpty() bool { return l.data == "" }

// All yields the pairs in name order.
func (l Labels) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		l.Range(yield)
	}
}

// Range calls fn for each pair in name order until it returns false.
func (l Labels) Range(fn func(name, value string) bool) {
	tab := symbols.table()
	for i := 0; i < len(l.data); {
		k, v, j := l.next(tab, i)
		if !fn(k, v) {
			return
		}
		i = j
	}
}

// Names returns the names in order.
func (l Labels) Names() []string {
	var out []string
	l.Range(func(k, _ string) bool { out = append(out, k); return true })
	return out
}

// Map returns the pairs as a new map (nil for the empty set), for the
// rare caller that needs one.
func (l Labels) Map() map[string]string {
	if l.data == "" {
		return nil
	}
	m := make(map[string]string, l.Len())
	l.Range(func(k, v string) bool { m[k] = v; return true })
	return m
}

// With returns the set with name set to value (added or replaced).
func (l Labels) With(name, value string) Labels {
	m := l.Map()
	if m == nil {
		m = map[string]string{}
	}
	m[name] = value
	return LabelsFromMap(m)
}

// Without returns the set without the named labels.
func (l Labels) Without(names ...string) Labels {
	if l.data == "" || len(names) == 0 {
		return l
	}
	var pairs []string
	l.Range(func(k, v string) bool {
		if !slices.Contains(names, k) {
			pairs = append(pairs, k, v)
		}
		return true
	})
	if len(pairs) == 2*l.Len() {
		return l
	}
	return SortedLabels(pairs...)
}

// Equal reports whether both sets hold the same pairs.
func (l Labels) Equal(o Labels) bool { return l.data == o.data }

// labelsSeed seeds Hash: its values hold within one process only.
var labelsSeed = maphash.MakeSeed()

// Hash is a hash of the pairs for telling sets apart within one process
// (equal sets hash equal); it is not stable across processes.
func (l Labels) Hash() uint64 { return maphash.String(labelsSeed, l.data) }

// String renders the set as {name="value", …}, sorted, for messages.
func (l Labels) String() string {
	var b strings.Builder
	b.WriteByte('{')
	first := true
	l.Range(func(k, v string) bool {
		if !first {
			b.WriteString(", ")
		}
		first = false
		b.WriteString(k)
		b.WriteString("=")
		b.WriteString(strconv.Quote(v))
		return true
	})
	b.WriteByte('}')
	return b.String()
}

// MarshalJSON writes the set as a JSON object, names sorted, as a map
// would be written (the empty set as {}).
func (l Labels) MarshalJSON() ([]byte, error) {
	if l.data == "" {
		return []byte("{}"), nil
	}
	return json.Marshal(l.Map())
}

// UnmarshalJSON reads a JSON object of strings (null: the empty set).
func (l *Labels) UnmarshalJSON(b []byte) error {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*l = LabelsFromMap(m)
	return nil
}
