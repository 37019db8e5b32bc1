package model

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// JSON renders the statistics in their documented, stable shape
// (docs/stats.md), indented, keys in a fixed order, with a trailing
// newline; strings are made safe to print to a terminal as the handoff's
// are (Handoff.JSON).
func (s *Stats) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(jsonEscapeControls(b), '\n'), nil
}

// StatsCSVColumns are the columns of the CSV form, in order
// (docs/stats.md lists them).
var StatsCSVColumns = []string{
	"row", "label", "from", "to",
	"outages", "critical", "warning", "info", "none",
	"tta_samples", "tta_p50_s", "tta_p90_s", "ttr_samples", "ttr_p50_s", "ttr_p90_s",
	"escalations", "escalations_l1", "escalations_l2", "escalations_l3_up", "acks_expired",
	"tickets_opened", "tickets_closed", "tickets_past_sla",
	"t1_opened", "t1_closed", "t1_past_sla", "t2_opened", "t2_closed", "t2_past_sla",
	"alerts",
}

// CSV renders the per-bucket table as CSV (RFC 4180, CRLF line ends): a
// header row of StatsCSVColumns, one row per bucket ("bucket") and a
// totals row ("total"). Times are RFC 3339 in UTC, the label is the
// bucket's start in the statistics' zone, durations whole seconds, an
// empty cell where there was nothing to measure. Ticket cells are empty
// when no ticket source ever polled.
func (s *Stats) CSV() ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	if err := w.Write(StatsCSVColumns); err != nil {
		return nil, err
	}
	loc := s.Location()
	row := func(kind string, p StatsPeriod) []string {
		label := p.From.In(loc).Format("2006-01-02")
		if kind == "total" {
			label = label + "/" + p.To.In(loc).Format("2006-01-02")
		} else if t := p.From.In(loc); t.Hour() != 0 || t.Minute() != 0 {
			label = t.Format("2006-01-02 15:04")
		}
		n := strconv.Itoa
		opt := func(v *int64) string {
			if v == nil {
				return ""
			}
			return strconv.FormatInt(*v, 10)
		}
		l3 := 0
		for k, v := range p.Escalations {
			if lv, err := strconv.Atoi(k); err != nil || lv >= 3 {
				l3 += v
			}
		}
		r := []string{kind, csvSafe(label), p.From.UTC().Format(time.RFC3339), p.To.UTC().Format(time.RFC3339),
			n(p.Outages), n(p.BySeverity[SevCritical]), n(p.BySeverity[SevWarning]), n(p.BySeverity[SevInfo]), n(p.BySeverity[SevNone]),
			n(p.TTASamples), opt(p.TTAP50), opt(p.TTAP90), n(p.TTRSamples), opt(p.TTRP50), opt(p.TTRP90),
			n(p.EscalationTotal()), n(p.Escalations["1"]), n(p.Escalations["2"]), n(l3), n(p.AcksExpired)}
		if s.HasTickets {
			t, t1, t2 := p.TicketTotals(), p.Tickets["1"], p.Tickets["2"]
			r = append(r, n(t.Opened), n(t.Closed), n(t.Breached), n(t1.Opened), n(t1.Closed), n(t1.Breached),
				n(t2.Opened), n(t2.Closed), n(t2.Breached))
		} else {
			r = append(r, "", "", "", "", "", "", "", "", "")
		}
		return append(r, n(p.Alerts))
	}
	for _, p := range s.Buckets {
		if err := w.Write(row("bucket", p)); err != nil {
			return nil, err
		}
	}
	if err := w.Write(row("total", s.Totals)); err != nil {
		return nil, err
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// csvSafe guards a text cell against formula injection: a cell a
// spreadsheet would read as a formula (starting with =, +, -, @, or a tab
// or carriage return before one) gets a leading apostrophe.
func csvSafe(s string) string {
	if t := strings.TrimLeft(s, "\t\r "); t != "" && strings.ContainsRune("=+-@", rune(t[0])) {
		return "'" + s
	}
	if s != "" && (s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}
