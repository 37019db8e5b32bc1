package teamstore

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"sitroom/model"
)

// StatsFacts reads, in one snapshot, what the team store holds of
// [q.From, q.To) for `sitroom stats` in team mode: the team's outages as
// History derives them from every host's view (one outage whichever hosts
// saw it, with those hosts), each with its first ack from the team's audit
// log (not refused, on its service, at or after it opened and before it
// closed or q.To), the escalations in the span (not refused) and the acks
// that lapsed in it, narrowed to q.Services when set. Team.Mode is set.
//
// The store keeps no alert or ticket rows: AlertHours, Flapping,
// TicketHours and HasTickets are left empty for the caller, who fills
// them from this host's cache (cache.StatsFacts with the same query) —
// copy those four fields over; everything else comes from here.
func (s *Store) StatsFacts(ctx context.Context, q model.StatsQuery) (*model.StatsFacts, error) {
	var f *model.StatsFacts
	err := s.do(ctx, "read stats", func(c *pgx.Conn) error {
		f = &model.StatsFacts{From: q.From, To: q.To, Team: model.TeamHistory{Mode: true}}
		return pgx.BeginTxFunc(ctx, c, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
			keep := func(service string) bool { return len(q.Services) == 0 || slices.Contains(q.Services, service) }
			rows, err := tx.Query(ctx, teamOutages, q.From, q.To)
			if err != nil {
				return err
			}
			outages, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (model.OutageRecord, error) {
				var hosts []string
				o, err := scanOutage(r, &hosts)
				o.Hosts = hosts
				return o, err
			})
			if err != nil {
				return err
			}
			earliest := q.From
			for _, o := range outages {
				if !keep(o.Service) {
					continue
				}
				if o.Opened.Before(earliest) {
					earliest = o.Opened
				}
				f.Outages = append(f.Outages, model.StatsOutage{Service: o.Service, Severity: o.Severity, Opened: o.Opened.UTC(),
					Closed: utc(o.Closed), Alerts: o.Alerts, Hosts: o.Hosts})
			}
			rows, err = tx.Query(ctx, `SELECT a.service, a.at FROM `+auditFrom+`
				WHERE a.verb = 'ack' AND s.state != 'refused' AND a.at >= $1 AND a.at < $2 ORDER BY a.at, a.seq`, earliest, q.To)
			if err != nil {
				return err
			}
			acks := map[string][]time.Time{}
			var service string
			var at time.Time
			if _, err := pgx.ForEachRow(rows, []any{&service, &at}, func() error {
				acks[service] = append(acks[service], at)
				return nil
			}); err != nil {
				return err
			}
			for i := range f.Outages {
				o := &f.Outages[i]
				end := q.To
				if !o.Closed.IsZero() && o.Closed.Before(end) {
					end = o.Closed
				}
				ts := acks[o.Service]
				j := sort.Search(len(ts), func(k int) bool { return !ts[k].Before(o.Opened) })
				if j < len(ts) && ts[j].Before(end) {
					o.FirstAck = ts[j].UTC()
				}
			}
			rows, err = tx.Query(ctx, `SELECT e.at, e.service, e.level, e.operator FROM escalations e
				JOIN action_state s ON s.uid = e.uid WHERE s.state != 'refused' AND e.at >= $1 AND e.at < $2 ORDER BY e.at, e.seq`,
				q.From, q.To)
			if err != nil {
				return err
			}
			var e model.StatsEscalation
			if _, err := pgx.ForEachRow(rows, []any{&e.At, &e.Service, &e.Level, &e.Operator}, func() error {
				if keep(e.Service) {
					e.At = e.At.UTC()
					f.Escalations = append(f.Escalations, e)
				}
				return nil
			}); err != nil {
				return err
			}
			rows, err = tx.Query(ctx, `SELECT until, service, operator FROM acks WHERE until >= $1 AND until < $2
				AND (cleared_at IS NULL OR cleared_at > until) AND (ended_at IS NULL OR ended_at > until) ORDER BY until, seq`,
				q.From, q.To)
			if err != nil {
				return err
			}
			var a model.StatsAckExpiry
			_, err = pgx.ForEachRow(rows, []any{&a.At, &a.Service, &a.Operator}, func() error {
				if keep(a.Service) {
					a.At = a.At.UTC()
					f.AcksExpired = append(f.AcksExpired, a)
				}
				return nil
			})
			return err
		})
	})
	return f, err
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}
