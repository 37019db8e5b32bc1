package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/model/config"
	"sitroom/model/teamstore"
	"sitroom/sources"
	"sitroom/sources/cloudwatch"
	"sitroom/sources/prometheus"
)

// Check is `sitroom check`: it validates the config, probes every source
// and prints one line each; it returns the exit code (1 when the config
// or any source fails). Secrets never reach its output: only names, types
// and URLs are printed, and URLs may not carry credentials (Validate
// refuses them).
func Check(ctx context.Context, o Options, stdout, stderr io.Writer) int {
	cfg, stopDemo, err := LoadConfig(ctx, o)
	if err != nil {
		fmt.Fprintln(stderr, "config:", err)
		return 1
	}
	defer stopDemo()
	for _, w := range cfg.Warnings() {
		fmt.Fprintln(stdout, "warning:", w)
	}
	if dir := cfg.RunbookDir(); dir != "" {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			fmt.Fprintf(stdout, "warning: runbooks_dir %s is not a directory: local runbooks will not open\n", dir)
		}
	}
	checkRunbooks(ctx, cfg, stdout)
	fmt.Fprintf(stdout, "config ok: %s, %s\n", model.Plural(len(cfg.Sources), "source", "sources"), model.Plural(len(cfg.Services), "service", "services"))
	jobs, err := Jobs(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "config:", err)
		return 1
	}
	failed, severe := 0, 0
	recorded := recordedFindings(o, time.Now())
	for i, j := range jobs {
		timeout := j.Timeout
		if timeout <= 0 {
			timeout = 10 * time.Second
		}
		// As the poller does: the timeout bounds each request, the
		// interval the probe (the timeout the whole of it for a source
		// that is not sources.RequestBounded).
		bound := max(j.Interval, timeout)
		if _, ok := j.Source.(sources.RequestBounded); !ok && j.Tickets == nil {
			bound = timeout
		}
		where := cfg.Sources[i].URL
		fail := func(format string, a ...any) {
			failed++
			fmt.Fprintf(stdout, "FAIL  %-16s %-12s %s  %s\n", j.Name(), j.Type(), where, fmt.Sprintf(format, a...))
		}
		if j.Tickets != nil {
			pctx, pcancel := context.WithTimeout(ctx, bound)
			start := time.Now()
			list, err := j.Tickets.Fetch(sources.WithRequestTimeout(pctx, timeout))
			pcancel()
			if err != nil {
				fail("%v", err)
				continue
			}
			fmt.Fprintf(stdout, "ok    %-16s %-12s %s  %d open tickets in %s\n", j.Name(), j.Type(), where, len(list),
				time.Since(start).Round(100*time.Microsecond))
			continue
		}
		if cws, ok := j.Source.(*cloudwatch.Source); ok {
			// CloudWatch: say which identity the credential chain resolved
			// (or why none), then probe the alarms. Only the account, ARN
			// and region are printed, never a key.
			where = cfg.Sources[i].Region
			if p := cfg.Sources[i].Profile; p != "" {
				where += " profile " + p
			}
			ictx, icancel := context.WithTimeout(ctx, timeout)
			id, err := cws.Identity(ictx)
			icancel()
			if err != nil {
				fail("identity: %v", err)
				continue
			}
			where += " account " + id.Account + " as " + id.ARN
		}
		pctx, pcancel := context.WithTimeout(ctx, bound)
		start := time.Now()
		alerts, err := j.Source.Fetch(sources.WithRequestTimeout(pctx, timeout))
		pcancel()
		took := time.Since(start).Round(100 * time.Microsecond)
		if err != nil {
			fail("%v", err)
			continue
		}
		fmt.Fprintf(stdout, "ok    %-16s %-12s %s  %s in %s\n", j.Name(), j.Type(), where, model.Plural(len(alerts), "alert", "alerts"), took)
		if ps, ok := j.Source.(*prometheus.Source); ok {
			printExternal(stdout, j.Name(), ps.External())
		}
		if h, ok := j.Source.(sources.HealthReader); ok {
			hctx, hcancel := context.WithTimeout(ctx, bound)
			fs, err := h.Health(sources.WithRequestTimeout(hctx, timeout))
			hcancel()
			if err != nil {
				fs = append(fs, model.Finding{Kind: model.FindingNote, Subject: "health not read", Text: err.Error()})
			}
			severe += printFindings(stdout, j.Name(), fs, recorded[j.Name()])
		}
	}
	teamFailed := cfg.TeamMode() && !checkTeam(ctx, cfg, stdout, o.Audit)
	if o.Audit && !cfg.TeamMode() {
		fmt.Fprintln(stdout, "      audit: no team store in the config, nothing to verify (--audit verifies the team store's audit log)")
	}
	if failed > 0 {
		fmt.Fprintf(stdout, "%d of %s failed\n", failed, model.Plural(len(jobs), "source", "sources"))
		return 1
	}
	if teamFailed {
		return 1
	}
	if severe > 0 {
		line := "alerting pipeline degraded: " + model.Plural(severe, "finding", "findings")
		if o.WarnOnly {
			fmt.Fprintln(stdout, line+" (--warn-only: not failing)")
			return 0
		}
		fmt.Fprintln(stdout, line)
		return 1
	}
	return 0
}

// teamCheckTimeout bounds check's visit to the team store: connecting,
// the schema and reading its state.
const teamCheckTimeout = 10 * time.Second

// auditCheckTimeout bounds `check --audit`'s read of the whole audit log.
const auditCheckTimeout = 5 * time.Minute

// checkTeam connects to the team store the config names and prints one
// line, as for a source: the server's version, the schema version, the
// role and database, or why not; then the identity model in force (each
// operator logs in as themselves and the server holds them to their role,
// or a warning when the connection is the schema's owner, whom no policy
// holds). A role that cannot write the store fails, unless it is a
// viewer's: a console on it could not share its operators' work. With
// audit, it then verifies the audit log's hash chain and fails when a row
// was altered or removed. The password (team.password_file, PGPASSWORD or
// ~/.pgpass) never reaches the output. It reports whether the store is
// fit for use.
func checkTeam(ctx context.Context, cfg *config.Config, w io.Writer, audit bool) bool {
	where := cfg.Team.Postgres // Validate refuses a URL holding a password
	fail := func(msg string) bool {
		fmt.Fprintf(w, "FAIL  %-16s %-12s %s  %s\n", "team", "postgres", where, msg)
		return false
	}
	tctx, cancel := context.WithTimeout(ctx, teamCheckTimeout)
	defer cancel()
	host, _ := os.Hostname()
	roles := teamRoles(cfg)
	st, err := teamstore.Open(tctx, teamstore.Options{URL: cfg.Team.Postgres, PasswordFile: cfg.TeamPasswordFile(), Host: host,
		Roles: roles})
	noRole := func(who string) { // "": not known
		role := who
		if who == "" {
			who, role = "the role", "it"
		}
		fmt.Fprintf(w, "      team: %s is in none of the team's roles (%s, %s, %s, %s), or was revoked: GRANT %s TO %s, as the admin\n",
			who, roles.Viewer, roles.Tier1, roles.Tier2, roles.Lead, roles.Tier1, role)
	}
	if denied(err) { // a role in none of the groups may not even read the schema's version
		fail(teamFailure(err))
		noRole("")
		return false
	}
	if err != nil {
		return fail(teamFailure(err))
	}
	defer st.Close()
	in, err := st.Info(tctx)
	if denied(err) {
		fail(teamFailure(err))
		if id, ierr := st.Identity(tctx); ierr == nil && !id.Operator {
			noRole(sources.Sanitize(id.User, 64))
		} else {
			noRole("")
		}
		return false
	}
	if err != nil {
		return fail(teamFailure(err))
	}
	version, _, _ := strings.Cut(strings.TrimSpace(in.ServerVersion), " ") // "15.18 (Debian 15.18-0+deb12u1)"
	user := sources.Sanitize(in.User, 64)
	what := fmt.Sprintf("PostgreSQL %s, schema %d, as %s on %s", sources.Sanitize(version, 40), in.SchemaVersion,
		user, sources.Sanitize(in.Database, 64))
	id, idErr := st.Identity(tctx)
	viewer := idErr == nil && id.Enforced && id.Operator && id.Role == model.RoleViewer
	if !in.CanWrite && !viewer {
		fail(fmt.Sprintf("connected as %s, which cannot write the team store (%s)", user, what))
		if idErr == nil && id.Enforced && !id.Operator {
			noRole(user)
		}
		return false
	}
	if idErr != nil {
		return fail("who the store takes this console for: " + teamFailure(idErr))
	}
	access := "can write"
	if !in.CanWrite {
		access = "read-only: viewer"
	}
	fmt.Fprintf(w, "ok    %-16s %-12s %s  %s (%s)\n", "team", "postgres", where, what, access)
	if id.Enforced {
		fmt.Fprintf(w, "      team: identities enforced: %s is %s\n", sources.Sanitize(id.User, 64), id.Role)
	} else {
		why := sources.Sanitize(id.Why, 200)
		if why == "" {
			why = "the store's policies do not hold " + user
		}
		fmt.Fprintf(w, "warning: team: identities not enforced: %s; any console on this URL may act as anyone (docs/team.md, Running a team)\n", why)
	}
	if !audit {
		return true
	}
	actx, acancel := context.WithTimeout(ctx, auditCheckTimeout) // reads the whole log
	defer acancel()
	ac, err := st.VerifyAudit(actx)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		fmt.Fprintf(w, "FAIL  %-16s not read within %s\n", "audit", auditCheckTimeout)
		return false
	case err != nil:
		fmt.Fprintf(w, "FAIL  %-16s %s\n", "audit", teamFailure(err))
		return false
	case !ac.OK:
		fmt.Fprintf(w, "FAIL  %-16s row %d (uid %s) altered or removed: %s\n", "audit", ac.BrokenSeq,
			sources.Sanitize(ac.BrokenUID, 64), sources.Sanitize(ac.Why, 300))
		return false
	}
	rows := thousands(ac.Rows) + " rows"
	if ac.Rows == 1 {
		rows = "1 row"
	}
	fmt.Fprintf(w, "ok    %-16s %s, hash chain intact\n", "audit", rows)
	return true
}

// denied reports whether the server refused for want of a privilege or
// by a row-level security policy (SQLSTATE 42501).
func denied(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42501"
}

// thousands writes n with a comma every three digits: 12,345.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// teamFailure is a team store failure in words: what the server said, or
// why it could not be reached, with what to look at for the usual ones.
// The store's errors never hold the password.
func teamFailure(err error) string {
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && (pe.Code == "28P01" || pe.Code == "28000"):
		return sources.Sanitize(pe.Message, 200) + " (see team.password_file, PGPASSWORD, ~/.pgpass)"
	case errors.As(err, &pe) && pe.Code == "3D000":
		return sources.Sanitize(pe.Message, 200) + ": the database named in team.postgres does not exist"
	case errors.As(err, &pe):
		return sources.Sanitize(pe.Message, 200) + " (SQLSTATE " + sources.Sanitize(pe.Code, 5) + ")"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused: no PostgreSQL is listening there"
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Sprintf("no answer within %s", teamCheckTimeout)
	}
	return sources.Sanitize(err, 400)
}

// recordedFindings are the findings that take more than one read to make
// (an Alertmanager not receiving, a cluster split), as the sitroom polling
// into the cache o names last recorded them: a check reads each upstream
// once. Only sources the cache saw polled within the last two minutes
// count; nothing when there is no cache.
func recordedFindings(o Options, now time.Time) map[string][]model.Finding {
	db := o.dbPath()
	if _, err := os.Stat(db); err != nil {
		return nil
	}
	c, err := cache.Open(db)
	if err != nil {
		return nil
	}
	defer c.Close()
	pv, err := c.Preview(0) // the statuses, without loading every open alert
	if err != nil {
		return nil
	}
	out := map[string][]model.Finding{}
	for _, st := range pv.Statuses {
		if now.Sub(st.LastAttempt) > 2*time.Minute {
			continue
		}
		for _, f := range st.Findings {
			if f.Kind == model.FindingNotify || f.Kind == model.FindingCluster {
				out[st.Name] = append(out[st.Name], f)
			}
		}
	}
	return out
}

// printFindings prints what a source's upstream reports of its alerting
// pipeline, a line each, with what the polling sitroom recorded that this
// one read could not tell; it returns how many are severe. Upstream words
// are sanitized.
func printFindings(w io.Writer, name string, live, recorded []model.Finding) int {
	fs := slices.Clone(live)
	seen := map[string]bool{}
	for _, f := range live {
		seen[string(f.Kind)+"\x00"+f.Subject] = true
	}
	from := len(fs)
	for _, f := range recorded {
		if !seen[string(f.Kind)+"\x00"+f.Subject] {
			fs = append(fs, f)
		}
	}
	severe := 0
	for i, f := range fs {
		what := sources.Sanitize(f.Subject, 120)
		switch f.Kind {
		case model.FindingRule:
			what = "rule failing: " + what
		case model.FindingStuck:
			what = "rule group stuck: " + what
		case model.FindingNote:
			what = "note: " + what
		}
		if f.Text != "" {
			what += ": " + sources.Sanitize(f.Text, 200)
		}
		if i >= from {
			what += " (as the polling sitroom last saw it)"
		}
		if f.Severe {
			severe++
			fmt.Fprintf(w, "FAIL  %-16s pipeline: %s\n", name, what)
		} else {
			fmt.Fprintf(w, "      %s: %s\n", name, what)
		}
	}
	return severe
}

// printExternal prints what a Prometheus source learned from its server's
// config: the external labels it adds to alerts as the server's
// Alertmanagers receive them, and a warning where the same alert may show
// as two rows.
func printExternal(w io.Writer, name string, x prometheus.External) {
	const twice = "the same alert from an Alertmanager may show as a row of its own (see match_ignore_labels)"
	switch {
	case x.Status == http.StatusNotFound: // Thanos Ruler, vmalert
		fmt.Fprintf(w, "      %s: external labels not known: %s; alerts shown as listed\n", name, x.Unknown)
	case x.Unknown != "":
		fmt.Fprintf(w, "warning: %s: external labels not known: %s; %s\n", name, x.Unknown, twice)
	default:
		labels := "none"
		if len(x.Labels) > 0 {
			var b strings.Builder
			for i, k := range slices.Sorted(maps.Keys(x.Labels)) {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "%s=%q", sources.Sanitize(k, 60), sources.Sanitize(x.Labels[k], 80))
			}
			labels = "{" + b.String() + "}"
		}
		line := "external labels " + labels
		if x.Relabel > 0 {
			line += ", then " + model.Plural(x.Relabel, "alert_relabel_config", "alert_relabel_configs")
		}
		fmt.Fprintf(w, "      %s: %s\n", name, line)
	}
	for _, warn := range x.Warnings {
		fmt.Fprintf(w, "warning: %s: %s; %s\n", name, warn, twice)
	}
}
