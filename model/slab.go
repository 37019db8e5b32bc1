package model

// Slab hands out pointers to zeroed Ts carved from chunks: one allocation
// per chunk instead of one per value, for values that live and die
// together (the rows of one load of the cache, the signals of one
// snapshot). Each chunk is twice the last, up to 4096 values, so a few
// values take a small one. A value keeps its whole chunk alive. The zero
// Slab starts with chunks of 16.
type Slab[T any] struct {
	// Next is the size of the next chunk.
	Next int
	free []T
}

// New returns a pointer to a zeroed T from the current chunk, starting a
// new one when it is used up; limit, when positive, bounds the size of a
// new chunk (how many more values are wanted, when that is known).
func (s *Slab[T]) New(limit int) *T {
	if len(s.free) == 0 {
		if s.Next <= 0 {
			s.Next = 16
		}
		n := s.Next
		if limit > 0 {
			n = min(n, limit)
		}
		s.free, s.Next = make([]T, n), min(2*s.Next, 4096)
	}
	v := &s.free[0]
	s.free = s.free[1:]
	return v
}
