package model

import "testing"

// A slab's chunks double from where they start, up to 4096 values, and a
// limit bounds a new chunk; every value it hands out is zero and its own.
func TestSlabChunks(t *testing.T) {
	var s Slab[int64]
	seen := map[*int64]bool{}
	for i := range 10_000 {
		p := s.New(0)
		if *p != 0 || seen[p] {
			t.Fatalf("value %d: reused or not zero", i)
		}
		seen[p] = true
		*p = int64(i) + 1
	}
	if s.Next != 4096 {
		t.Fatalf("next chunk %d, want 4096 at most", s.Next)
	}
	b := Slab[int64]{Next: 64}
	b.New(3)
	if got := cap(b.free) + 1; got != 3 {
		t.Fatalf("a chunk limited to 3 holds %d", got)
	}
}
