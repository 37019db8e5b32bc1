package teamstore

import (
	"context"
	"time"
)

// idlePing is how long Listen waits for a notification before it asks
// the server whether the connection still works.
var idlePing = 30 * time.Second

// Channel is the notification channel every table's changes are
// announced on, with the table's name as payload.
const Channel = "sitroom"

// Listen listens for changes on a connection of its own until ctx ends,
// calling fn with the name of each table that changed (notifications of
// one transaction may come as one call per table). After each
// (re)connection, the first included, it calls fn with "": whatever
// changed while it was not listening is to be read with Changes. When
// the server goes away it reconnects with back-off (100 ms doubling up to
// 5 s). It returns ctx's error.
func (s *Store) Listen(ctx context.Context, fn func(table string)) error {
	backoff := 100 * time.Millisecond
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := s.listenOnce(ctx, fn, &backoff); ctx.Err() != nil {
			return ctx.Err()
		} else if err != nil {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 5*time.Second)
		}
	}
}

// listenOnce connects, listens and hands notifications to fn until the
// connection fails; backoff is reset once listening.
func (s *Store) listenOnce(ctx context.Context, fn func(string), backoff *time.Duration) error {
	c, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = c.Close(cctx)
	}()
	if _, err := c.Exec(ctx, "LISTEN "+Channel); err != nil {
		return err
	}
	*backoff = 100 * time.Millisecond
	fn("")
	for {
		// A server gone without a word (a cut network) is found by a ping
		// after a quiet spell.
		wctx, cancel := context.WithTimeout(ctx, idlePing)
		n, err := c.WaitForNotification(wctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil || wctx.Err() == nil {
				return err
			}
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err = c.Ping(pctx)
			cancel()
			if err != nil {
				return err
			}
			continue
		}
		fn(n.Payload)
	}
}
