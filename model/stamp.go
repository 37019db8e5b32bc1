package model

import "time"

// Stamp is an instant in eight bytes (a time.Time takes 24): Unix
// nanoseconds, UTC, with no monotonic reading; zero is no instant, as the
// zero time.Time is. A row holds its seen and resolved times as stamps:
// there is a row per open alert, 100k of them. The instant of the Unix
// epoch itself reads as none.
type Stamp int64

// StampOf is t as a Stamp (the zero time: zero).
func StampOf(t time.Time) Stamp {
	if t.IsZero() {
		return 0
	}
	return Stamp(t.UnixNano())
}

// Time is the stamp as a time.Time in UTC (zero: the zero time).
func (s Stamp) Time() time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(s)).UTC()
}

// IsZero reports whether the stamp is no instant.
func (s Stamp) IsZero() bool { return s == 0 }

// Before reports whether s is before o.
func (s Stamp) Before(o Stamp) bool { return s < o }

// After reports whether s is after o.
func (s Stamp) After(o Stamp) bool { return s > o }
