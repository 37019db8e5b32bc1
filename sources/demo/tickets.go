package demo

import (
	"fmt"
	"os/user"
	"time"

	pconfig "github.com/prometheus/common/config"
	pmodel "github.com/prometheus/common/model"

	"sitroom/model/config"
	"sitroom/sources/tickets/servicenow/sntest"
)

// The demo's ServiceNow desk: assignment groups, users and sys_ids.
const (
	snGroupT1 = "a1000000000000000000000000000001"
	snGroupT2 = "a1000000000000000000000000000002"
	snOperatr = "b1000000000000000000000000000001"
	snDana    = "b1000000000000000000000000000002"
	snMia     = "b1000000000000000000000000000003"
)

// cleanups runs what sntest registers when the demo closes.
type cleanups struct{ fs []func() }

func (c *cleanups) Cleanup(f func()) { c.fs = append(c.fs, f) }

func (c *cleanups) run() {
	for i := len(c.fs) - 1; i >= 0; i-- {
		c.fs[i]()
	}
	c.fs = nil
}

// startDesk starts the "noc-desk" ServiceNow instance with a few
// incidents linked to the cascade (through their configuration item):
// a breached P1 on payments, a Tier 2 ticket on db-main, one on checkout
// without an SLA of its own, one breaching soon, and an assigned one.
func (d *Demo) startDesk() {
	d.sn = sntest.New(&d.cleanup)
	d.sn.RecordQueries(false) // the demo runs for weeks on a wall screen
	sn := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }
	at := d.start
	d.sn.Add("sys_user_group", sntest.Record{"sys_id": snGroupT1, "name": "NOC Tier 1"}, sntest.Record{"sys_id": snGroupT2, "name": "NOC Tier 2"})
	d.sn.Add("sys_user", sntest.Record{"sys_id": snOperatr, "name": "NOC operator", "user_name": "noc"},
		sntest.Record{"sys_id": snDana, "name": "Dana Okafor", "user_name": "dana"},
		sntest.Record{"sys_id": snMia, "name": "Mia Krystof", "user_name": "mia"})
	ci := map[string]string{}
	for i, s := range services {
		id := fmt.Sprintf("c10000000000000000000000000000%02d", i+1)
		ci[s.name] = id
		d.sn.Add("cmdb_ci", sntest.Record{"sys_id": id, "name": s.name})
	}
	inc := func(n int, desc, prio, state, group, assigned, caller, cmdbCI string, opened time.Duration) sntest.Record {
		return sntest.Record{"sys_id": fmt.Sprintf("e10000000000000000000000000000%02d", n), "number": fmt.Sprintf("INC00520%02d", n),
			"short_description": desc, "priority": prio, "state": state, "active": "true", "assignment_group": group,
			"assigned_to": assigned, "caller_id": caller, "cmdb_ci": cmdbCI,
			"opened_at": sn(at.Add(-opened)), "sys_updated_on": sn(at.Add(-opened / 2))}
	}
	d.sn.Add("incident",
		inc(1, "Card payments failing at checkout (5xx from payments API)", "1", "2", snGroupT1, "", snMia, ci["payments"], 35*time.Minute),
		inc(2, "db-main replica lag above 30s", "2", "2", snGroupT2, snDana, "", ci["db-main"], 50*time.Minute),
		inc(3, "Checkout page slow for EU customers", "3", "1", snGroupT1, "", snMia, ci["checkout"], 20*time.Minute),
		inc(4, "VPN drops at the Lisbon office", "3", "1", snGroupT1, "", "", "", 3*time.Hour),
		inc(5, "Search results stale after reindex", "4", "2", snGroupT1, snMia, "", ci["search"], 5*time.Hour),
	)
	d.sn.Add("task_sla",
		sntest.Record{"sys_id": "f1000000000000000000000000000001", "task": "e1000000000000000000000000000001", "sla.name": "P1 resolution (30m)",
			"stage": "in_progress", "has_breached": "false", "active": "true", "planned_end_time": sn(at.Add(-5 * time.Minute))},
		sntest.Record{"sys_id": "f1000000000000000000000000000002", "task": "e1000000000000000000000000000004", "sla.name": "P3 response (4h)",
			"stage": "in_progress", "has_breached": "false", "active": "true", "planned_end_time": sn(at.Add(20 * time.Minute))},
	)
}

// deskSource is the "noc-desk" ticket source of the demo config. The OS
// user running the demo maps to the desk's operator account, so t works.
func (d *Demo) deskSource() config.Source {
	s := config.DefaultSource()
	s.Name, s.Type, s.URL = "noc-desk", config.TypeServiceNow, d.sn.URL
	s.Interval = pmodel.Duration(5 * time.Second)
	s.Timeout = pmodel.Duration(4 * time.Second)
	s.HTTP.BasicAuth = &pconfig.BasicAuth{Username: d.sn.User, Password: pconfig.Secret(d.sn.Password)}
	s.Tiers = &config.TicketTiers{Tier1: config.TierQueues{Groups: []string{"NOC Tier 1"}}, Tier2: config.TierQueues{Groups: []string{"NOC Tier 2"}}}
	s.ServiceField = "cmdb_ci"
	s.SLATargets = map[string]pmodel.Duration{"P2": pmodel.Duration(4 * time.Hour), "P3": pmodel.Duration(8 * time.Hour)}
	s.Users = map[string]string{"noc": snOperatr}
	if u, err := user.Current(); err == nil && u.Username != "" {
		s.Users[u.Username] = snOperatr
	}
	return s
}
