package cache

import (
	"hash/maphash"
	"iter"
)

// entryIndex finds a source's open entries by key. It is a table of
// entry pointers with open addressing (linear probing, at most 7/8 full,
// backward-shift deletion), keyed by the key of each entry's row: about
// ten bytes an entry where a map of string to *entry took 35 (for 100k
// open alerts, 2.4 MB of the console's memory). Beside each slot, a byte
// of its key's hash: a probe reads an entry, its row and its key (three
// cache misses) only when the byte matches. The zero value is empty.
// Like the rest of the mirror it is guarded by the Cache's locks.
type entryIndex struct {
	slots []*entry // nil or a power of two long
	tags  []uint8  // tags[i]: tagOf the hash of slots[i]'s key
	n     int
}

var indexSeed = maphash.MakeSeed()

func hashKey(key string) uint64 { return maphash.String(indexSeed, key) }

// tagOf is the byte of a key's hash kept beside its slot (the top one:
// the low ones choose the slot).
func tagOf(h uint64) uint8 { return uint8(h >> 56) }

func (x *entryIndex) home(h uint64) int { return int(h & uint64(len(x.slots)-1)) }

// find returns the slot holding key's entry, or -1.
func (x *entryIndex) find(key string) int {
	if x.n == 0 {
		return -1
	}
	h := hashKey(key)
	tag, mask := tagOf(h), len(x.slots)-1
	for i := x.home(h); ; i = (i + 1) & mask {
		e := x.slots[i]
		if e == nil {
			return -1
		}
		if x.tags[i] == tag && e.row.Key == key {
			return i
		}
	}
}

// get returns the entry of key, or nil.
func (x *entryIndex) get(key string) *entry {
	if i := x.find(key); i >= 0 {
		return x.slots[i]
	}
	return nil
}

// set adds e, replacing the entry of the same key.
func (x *entryIndex) set(e *entry) {
	if (x.n+1)*8 > len(x.slots)*7 {
		x.resize(max(16, 2*len(x.slots)))
	}
	h := hashKey(e.row.Key)
	tag, mask := tagOf(h), len(x.slots)-1
	for i := x.home(h); ; i = (i + 1) & mask {
		o := x.slots[i]
		if o == nil {
			x.slots[i], x.tags[i] = e, tag
			x.n++
			return
		}
		if x.tags[i] == tag && o.row.Key == e.row.Key {
			x.slots[i] = e
			return
		}
	}
}

// del removes the entry of key, if any, and moves back the entries
// after it that it displaced, so that no lookup stops short of them.
func (x *entryIndex) del(key string) {
	i := x.find(key)
	if i < 0 {
		return
	}
	x.slots[i] = nil
	x.n--
	mask := len(x.slots) - 1
	for j := (i + 1) & mask; x.slots[j] != nil; j = (j + 1) & mask {
		// The entry at j stays unless its home lies cyclically outside
		// (i, j]: then the hole at i is on its probe path.
		h := x.home(hashKey(x.slots[j].row.Key))
		stays := h > i && h <= j
		if i > j {
			stays = h > i || h <= j
		}
		if !stays {
			x.slots[i], x.slots[j] = x.slots[j], nil
			x.tags[i] = x.tags[j]
			i = j
		}
	}
}

func (x *entryIndex) resize(size int) {
	old := x.slots
	x.slots, x.tags, x.n = make([]*entry, size), make([]uint8, size), 0
	for _, e := range old {
		if e != nil {
			x.set(e)
		}
	}
}

// len is the number of entries.
func (x *entryIndex) len() int { return x.n }

// all yields the entries in no particular order; the index must not
// change meanwhile.
func (x *entryIndex) all() iter.Seq[*entry] {
	return func(yield func(*entry) bool) {
		for _, e := range x.slots {
			if e != nil && !yield(e) {
				return
			}
		}
	}
}
