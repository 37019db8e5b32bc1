package model

import (
	"math"
	"time"
)

// Stamp is an instant in eight bytes (a time.Time takes 24): Unix
// nanoseconds, UTC, with no monotonic reading; zero is no instant, as the
// zero time.Time is. An alert holds its start and a row its seen and
// resolved times as stamps: there is a row per open alert, 100k of them. The instant of the Unix
// epoch itself reads as none.
type Stamp int64

// StampOf is t as a Stamp. The zero time, and a time a Stamp cannot
// hold (before 1678 or after 2262: an upstream's idea of "never"), are
// zero: no instant.
func StampOf(t time.Time) Stamp {
	if t.IsZero() || t.Before(minStamp) || t.After(maxStamp) {
		return 0
	}
	return Stamp(t.UnixNano())
}

// The instants a Stamp can hold.
var (
	minStamp = time.Unix(0, math.MinInt64)
	maxStamp = time.Unix(0, math.MaxInt64)
)

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

// String is the stamp in RFC 3339 with nanoseconds, or "none".
func (s Stamp) String() string {
	if s == 0 {
		return "none"
	}
	return s.Time().Format(time.RFC3339Nano)
}
