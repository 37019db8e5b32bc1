package cache

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// leaseName is the one lease the cache holds: the right to poll.
const leaseName = "poller"

// TryLease takes or renews the poller lease for holder until now+ttl, if
// the lease is free, expired at now, or already held by holder. It reports
// whether holder holds the lease after the call. Taking and renewing are
// one atomic statement, so of several processes racing for a lapsed lease
// exactly one wins. Safe for concurrent use.
func (c *Cache) TryLease(holder string, ttl time.Duration, now time.Time) (bool, error) {
	if holder == "" {
		return false, errors.New("cache: TryLease: empty holder")
	}
	if ttl <= 0 {
		return false, errors.New("cache: TryLease: ttl must be positive")
	}
	c.connMu.Lock()
	defer c.connMu.Unlock()
	if c.closed {
		return false, ErrClosed
	}
	res, err := c.conn.ExecContext(context.Background(),
		`INSERT INTO lease(name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE lease.holder = excluded.holder OR lease.expires_at <= ?`,
		leaseName, holder, ns(now.Add(ttl)), ns(now))
	if err != nil {
		return false, c.wrap("take the poller lease", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, c.wrap("take the poller lease", err)
	}
	return n == 1, nil
}

// ReleaseLease gives the lease up if holder holds it, so another process
// can take it over at once rather than after it expires. Releasing a lease
// one does not hold is not an error. Safe for concurrent use.
func (c *Cache) ReleaseLease(holder string) error {
	c.connMu.Lock()
	defer c.connMu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if _, err := c.conn.ExecContext(context.Background(),
		`DELETE FROM lease WHERE name = ? AND holder = ?`, leaseName, holder); err != nil {
		return c.wrap("release the poller lease", err)
	}
	return nil
}

// LeaseHolder reports who holds the poller lease and until when; holder is
// empty when nobody ever took it or it was released. The lease may have
// expired: compare expires with the current time. Safe for concurrent use.
func (c *Cache) LeaseHolder() (holder string, expires time.Time, err error) {
	db, done := c.pool()
	defer done()
	var exp int64
	err = db.QueryRowContext(context.Background(),
		`SELECT holder, expires_at FROM lease WHERE name = ?`, leaseName).Scan(&holder, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, c.wrap("read the poller lease", err)
	}
	return holder, fromNS(exp), nil
}

// TakeLeaseFrom takes the poller lease from dead, whatever its expiry, if
// dead still holds it: the caller has made sure that holder's process is
// gone (a crashed poller on the same host), so nobody waits out its ttl.
// It reports whether holder holds the lease after the call. Safe for
// concurrent use; of several takers exactly one wins.
func (c *Cache) TakeLeaseFrom(holder, dead string, ttl time.Duration, now time.Time) (bool, error) {
	if holder == "" || dead == "" || ttl <= 0 {
		return false, errors.New("cache: TakeLeaseFrom: empty holder or non-positive ttl")
	}
	c.connMu.Lock()
	defer c.connMu.Unlock()
	if c.closed {
		return false, ErrClosed
	}
	res, err := c.conn.ExecContext(context.Background(),
		`UPDATE lease SET holder = ?, expires_at = ? WHERE name = ? AND holder = ?`,
		holder, ns(now.Add(ttl)), leaseName, dead)
	if err != nil {
		return false, c.wrap("take over the poller lease", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, c.wrap("take over the poller lease", err)
	}
	return n == 1, nil
}
