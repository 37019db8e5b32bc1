package teamstore

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// ApplyVersions applies schema versions 1 to v to the database opt names,
// as a sitroom of version v did: the upgrade tests start from there.
func ApplyVersions(ctx context.Context, opt Options, v int) error {
	s, err := newStore(opt)
	if err != nil {
		return err
	}
	defer s.Close()
	return s.do(ctx, "apply old versions", func(c *pgx.Conn) error {
		return pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `CREATE TABLE schema_version (version integer PRIMARY KEY,
				applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
				return err
			}
			for i := 0; i < v; i++ {
				if _, err := tx.Exec(ctx, migrations[i]+"\n"+triggers(i+1)); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `INSERT INTO schema_version(version) VALUES ($1)`, i+1); err != nil {
					return err
				}
			}
			return nil
		})
	})
}
