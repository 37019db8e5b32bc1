package model

import (
	"strings"
	"sync"
	"sync/atomic"
)

// symbols is the process's table of label names and of the values that
// repeat across label sets (alertname, severity, job, cluster, team…):
// a Labels refers to an interned string by its index instead of holding
// a copy, so 100k alerts of ten labels each hold their few unique values
// (instance, pod) and a few bytes of references. It is the one table for
// every Labels of the process: a set is a value that must read itself
// back without a table passed around. It only grows, and is bounded.
var symbols = &symbolTable{
	names:      map[string]*nameSymbols{},
	maxSyms:    1 << 16,
	maxPerName: 1024,
}

// maxSymbolLen bounds the strings worth interning: longer ones
// (summaries, descriptions) rarely repeat.
const maxSymbolLen = 128

// A symbolTable interns names and, per name, values. A string is
// interned when first met while there is room (at most maxSyms in all
// and maxPerName values per name: a name whose values are all different,
// such as instance or pod, stops taking new ones) and is then always
// referred to by its index; one first met without room is always
// written out. So every set has one encoding whatever the order sets were
// built in, and equal sets are equal strings (Equal, Hash, ==).
type symbolTable struct {
	mu         sync.RWMutex
	names      map[string]*nameSymbols // guarded by mu
	n          int                     // strings interned, guarded by mu
	maxSyms    int
	maxPerName int
	// strs is the published table, index → string. Writers append under
	// mu and publish a new header; an index below a header's length never
	// changes, so readers need no lock.
	strs atomic.Pointer[[]string]
}

// nameSymbols is a name's symbol and those of its values; guarded by
// the table's mu.
type nameSymbols struct {
	id     uint32
	values map[string]uint32
}

// table returns the published strings.
func (t *symbolTable) table() []string {
	if p := t.strs.Load(); p != nil {
		return *p
	}
	return nil
}

// noSymbol marks a string written out rather than referred to.
const noSymbol = ^uint32(0)

// encode appends the pairs (name, value, … sorted by name without
// repeats) to b in the Labels encoding: per pair a reference to the
// name and one to the value, each the uvarint of index<<1 for an
// interned string or of len<<1|1 followed by the bytes.
func (t *symbolTable) encode(b []byte, pairs []string) []byte {
	var small [32]uint32
	ids := small[:0]
	if len(pairs) > len(small) {
		ids = make([]uint32, 0, len(pairs))
	}
	missing := false
	t.mu.RLock()
	full := t.n >= t.maxSyms
	for i := 0; i+1 < len(pairs); i += 2 {
		name, value := noSymbol, noSymbol
		ns := t.names[pairs[i]]
		if ns != nil {
			name = ns.id
			if v, ok := ns.values[pairs[i+1]]; ok {
				value = v
			}
		}
		// Only a string the table could still take needs the write
		// lock: most values of a name that took its share (instance,
		// pod) are written out, and so is a long one.
		if value == noSymbol && !full && len(pairs[i+1]) <= maxSymbolLen &&
			(ns == nil && len(pairs[i]) <= maxSymbolLen || ns != nil && len(ns.values) < t.maxPerName) {
			missing = true
		}
		ids = append(ids, name, value)
	}
	t.mu.RUnlock()
	if missing {
		t.intern(pairs, ids)
	}
	for i, id := range ids {
		if id == noSymbol {
			s := pairs[i]
			b = appendUvarint(b, uint64(len(s))<<1|1)
			b = append(b, s...)
		} else {
			b = appendUvarint(b, uint64(id)<<1)
		}
	}
	return b
}

// intern fills in ids the symbols of the strings they lack, interning
// those with room.
func (t *symbolTable) intern(pairs []string, ids []uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := 0; i+1 < len(pairs); i += 2 {
		ns := t.names[pairs[i]]
		if ns == nil {
			id, ok := t.add(pairs[i])
			if !ok {
				ids[i], ids[i+1] = noSymbol, noSymbol
				continue
			}
			ns = &nameSymbols{id: id, values: map[string]uint32{}}
			t.names[t.table()[id]] = ns
		}
		ids[i] = ns.id
		value, ok := ns.values[pairs[i+1]]
		if !ok && len(ns.values) < t.maxPerName {
			if value, ok = t.add(pairs[i+1]); ok {
				ns.values[t.table()[value]] = value
			}
		}
		if !ok {
			value = noSymbol
		}
		ids[i+1] = value
	}
}

// add appends s to the table if there is room; t.mu is held.
func (t *symbolTable) add(s string) (uint32, bool) {
	if len(s) > maxSymbolLen || t.n >= t.maxSyms {
		return 0, false
	}
	tab := t.table()
	tab = append(tab, strings.Clone(s))
	t.strs.Store(&tab)
	t.n++
	return uint32(len(tab) - 1), true
}

// appendUvarint is binary.AppendUvarint.
func appendUvarint(b []byte, x uint64) []byte {
	for x >= 0x80 {
		b = append(b, byte(x)|0x80)
		x >>= 7
	}
	return append(b, byte(x))
}
