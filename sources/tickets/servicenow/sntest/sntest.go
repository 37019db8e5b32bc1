// Package sntest is a ServiceNow Table API test server for the incident,
// task_sla, sys_user_group and sys_journal_field tables (a work note
// written to an incident becomes a sys_journal_field row, as on an
// instance), answering in the shapes ServiceNow's
// documentation shows (examples in testdata/servicenow/): every scalar a
// string, references as {"link","value"} (or a plain string with
// sysparm_exclude_reference_link=true), an empty reference as "", dot-walked
// fields in sysparm_fields, offset paging with X-Total-Count and Link. It
// keeps everything in memory and is for tests.
//
// Encoded queries: conditions joined by ^ and ^OR, with the operators =,
// !=, IN, > and <, and ISEMPTY (compared as text, which orders the raw
// "2025-11-03 09:14:22" date-times by time), and ORDERBY/ORDERBYDESC;
// anything else is ignored (as ServiceNow ignores an invalid field).
package sntest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"sitroom/sources/tickets/desktest"
)

// Record is one row: field name → raw value. Reference fields hold the
// target's sys_id and name the table in Server.Refs.
type Record map[string]string

// Server is the fake instance.
type Server struct {
	*httptest.Server
	// User and Password are the accepted basic-auth credentials.
	User, Password string

	// desk counts requests, throttles and loses write replies.
	desk desktest.Desk

	mu      sync.Mutex
	tables  map[string][]Record
	refs    map[string]string // field → table it references
	journal int
	// WorkNotes are the work notes written, by incident sys_id.
	workNotes map[string][]string
	queries   []string
	noQueries bool // RecordQueries(false)
}

// New starts a server; it is closed when the test ends.
func New(t interface{ Cleanup(func()) }) *Server {
	s := &Server{User: "sitroom", Password: "sn-password", tables: map[string][]Record{}, workNotes: map[string][]string{},
		refs: map[string]string{"assignment_group": "sys_user_group", "assigned_to": "sys_user", "caller_id": "sys_user", "cmdb_ci": "cmdb_ci", "task": "incident"}}
	s.Server = s.desk.Serve(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-RateLimit-Limit", "1000")
		failure(w, http.StatusTooManyRequests, "Rate limit exceeded", "The rate limit rule for this user has been exceeded")
	}, s.serve)
	return s
}

// Add adds rows to a table.
func (s *Server) Add(table string, rows ...Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tables[table] = append(s.tables[table], rows...)
}

// Get returns a copy of the row with this sys_id.
func (s *Server) Get(table, sysID string) Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.tables[table] {
		if r["sys_id"] == sysID {
			c := Record{}
			for k, v := range r {
				c[k] = v
			}
			return c
		}
	}
	return nil
}

// WorkNotes returns the work notes written to an incident.
func (s *Server) WorkNotes(sysID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.workNotes[sysID]...)
}

// Requests counts requests by "METHOD path".
func (s *Server) Requests(key string) int { return s.desk.Requests(key) }

// Queries returns the sysparm_query of every list request made to table
// since the last call, in order, and forgets them.
func (s *Server) Queries(table string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out, keep []string
	for _, q := range s.queries {
		if t, query, _ := strings.Cut(q, "\x00"); t == table {
			out = append(out, query)
		} else {
			keep = append(keep, q)
		}
	}
	s.queries = keep
	return out
}

// RecordQueries turns the record Queries returns on (the default) or off.
// A server that answers for as long as a process runs, as the demo's,
// turns it off: the record would grow with every poll.
func (s *Server) RecordQueries(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noQueries = !on
	if !on {
		s.queries = nil
	}
}

// Set changes fields of the row of table with this sys_id, as a write on
// the instance would; it reports whether the row exists.
func (s *Server) Set(table, sysID string, fields Record) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.tables[table] {
		if r["sys_id"] == sysID {
			for k, v := range fields {
				r[k] = v
			}
			return true
		}
	}
	return false
}

// LoseWriteReplies makes the next n PATCH/PUT requests apply the change
// and then cut the connection without an answer, as when a reply is lost
// on the way back.
func (s *Server) LoseWriteReplies(n int) { s.desk.LoseReplies(n) }

// Throttle makes the next n requests answer 429 with Retry-After.
func (s *Server) Throttle(n int, retryAfter string) { s.desk.Throttle(n, retryAfter) }

func failure(w http.ResponseWriter, code int, msg, detail string) {
	desktest.WriteJSON(w, code, map[string]any{"error": map[string]string{"message": msg, "detail": detail}, "status": "failure"})
}

var tablePath = regexp.MustCompile(`^/api/now/table/([a-z_]+)(?:/([0-9a-f]{32}))?$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, p, ok := r.BasicAuth(); !ok || u != s.User || p != s.Password {
		failure(w, http.StatusUnauthorized, "User Not Authenticated", "Required to provide Auth information")
		return
	}
	m := tablePath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		failure(w, http.StatusBadRequest, "Requested URI does not represent any resource", "")
		return
	}
	table, id := m[1], m[2]
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodGet && id == "":
		s.list(w, r, table)
	case (r.Method == http.MethodPatch || r.Method == http.MethodPut) && id != "":
		var row Record
		for _, x := range s.tables[table] {
			if x["sys_id"] == id {
				row = x
			}
		}
		if row == nil {
			failure(w, http.StatusNotFound, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")
			return
		}
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			failure(w, http.StatusBadRequest, "Exception while reading request", "Invalid JSON")
			return
		}
		for k, v := range body {
			str, ok := v.(string)
			if !ok {
				failure(w, http.StatusBadRequest, "Invalid value", k+" must be a string")
				return
			}
			if k == "work_notes" {
				s.workNotes[id] = append(s.workNotes[id], str)
				s.journal++
				s.tables["sys_journal_field"] = append(s.tables["sys_journal_field"], Record{
					"sys_id": fmt.Sprintf("%032x", 0xa000_0000+s.journal), "name": table, "element_id": id, "element": "work_notes", "value": str,
					"sys_created_on": time.Now().UTC().Format("2006-01-02 15:04:05"), "sys_created_by": s.User})
				continue
			}
			row[k] = str
		}
		// Every write stamps the record, as ServiceNow does (raw UTC).
		row["sys_updated_on"] = time.Now().UTC().Format("2006-01-02 15:04:05")
		if s.desk.LoseReply(w) {
			return
		}
		desktest.WriteJSON(w, http.StatusOK, map[string]any{"result": s.render(row, q.Get("sysparm_fields"), q.Get("sysparm_exclude_reference_link") == "true")})
	default:
		failure(w, http.StatusMethodNotAllowed, "Method not Supported", "")
	}
}

// value returns a field of row, following one dot-walk (group.name).
func (s *Server) value(row Record, field string) (string, bool) {
	if i := strings.IndexByte(field, '.'); i > 0 {
		ref, sub := field[:i], field[i+1:]
		target := s.refs[ref]
		if target == "" || row[ref] == "" {
			return "", true
		}
		for _, x := range s.tables[target] {
			if x["sys_id"] == row[ref] {
				return x[sub], true
			}
		}
		return "", true
	}
	v, ok := row[field]
	return v, ok
}

func (s *Server) match(row Record, query string) bool {
	if query == "" {
		return true
	}
	result, cur := true, true
	first := true
	for _, part := range strings.Split(query, "^") {
		if strings.HasPrefix(part, "ORDERBY") || part == "" {
			continue
		}
		or := strings.HasPrefix(part, "OR")
		if or {
			part = part[2:]
		}
		ok := s.cond(row, part)
		switch {
		case first:
			cur, first = ok, false
		case or:
			cur = cur || ok
		default:
			result = result && cur
			cur = ok
		}
	}
	return result && cur
}

var condRe = regexp.MustCompile(`^([a-z_.]+)(!=|=|IN|>|<)(.*)$`)

func (s *Server) cond(row Record, c string) bool {
	if f, ok := strings.CutSuffix(c, "ISEMPTY"); ok && condRe.MatchString(f+"=x") {
		v, _ := s.value(row, f)
		return v == ""
	}
	m := condRe.FindStringSubmatch(c)
	if m == nil {
		return true // ServiceNow ignores what it does not understand
	}
	v, _ := s.value(row, m[1])
	switch m[2] {
	case "=":
		return v == m[3]
	case "!=":
		return v != m[3]
	case ">":
		return v != "" && v > m[3]
	case "<":
		return v != "" && v < m[3]
	}
	for _, x := range strings.Split(m[3], ",") {
		if v == x {
			return true
		}
	}
	return false
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, table string) {
	q := r.URL.Query()
	query := q.Get("sysparm_query")
	if !s.noQueries {
		s.queries = append(s.queries, table+"\x00"+query)
	}
	var hits []Record
	for _, row := range s.tables[table] {
		if s.match(row, query) {
			hits = append(hits, row)
		}
	}
	for _, part := range strings.Split(query, "^") {
		if f, ok := strings.CutPrefix(part, "ORDERBYDESC"); ok {
			sort.SliceStable(hits, func(i, j int) bool { return hits[i][f] > hits[j][f] })
		} else if f, ok := strings.CutPrefix(part, "ORDERBY"); ok {
			sort.SliceStable(hits, func(i, j int) bool { return hits[i][f] < hits[j][f] })
		}
	}
	limit, offset := 10000, 0
	if v := q.Get("sysparm_limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	if v := q.Get("sysparm_offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			failure(w, http.StatusBadRequest, "Invalid sysparm_offset", "offset must be a non-negative number")
			return
		}
		offset = n
	}
	total := len(hits)
	end := min(offset+limit, total)
	out := []map[string]any{}
	for _, row := range hits[min(offset, total):end] {
		out = append(out, s.render(row, q.Get("sysparm_fields"), q.Get("sysparm_exclude_reference_link") == "true"))
	}
	link := func(off int, rel string) string {
		qq := r.URL.Query()
		qq.Set("sysparm_offset", strconv.Itoa(off))
		return "<" + s.URL + r.URL.Path + "?" + qq.Encode() + `>;rel="` + rel + `"`
	}
	links := []string{link(0, "first"), link(offset-limit, "prev")}
	if end < total {
		links = append(links, link(end, "next"))
	}
	links = append(links, link(max(0, (total-1)/max(limit, 1)*limit), "last"))
	w.Header().Set("Link", strings.Join(links, ","))
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	desktest.WriteJSON(w, http.StatusOK, map[string]any{"result": out})
}

func (s *Server) render(row Record, fields string, noLinks bool) map[string]any {
	var names []string
	if fields == "" {
		for k := range row {
			names = append(names, k)
		}
	} else {
		names = strings.Split(fields, ",")
	}
	out := map[string]any{}
	for _, f := range names {
		v, _ := s.value(row, f)
		if t := s.refs[f]; t != "" && !noLinks && v != "" {
			out[f] = map[string]string{"link": s.URL + "/api/now/table/" + t + "/" + v, "value": v}
			continue
		}
		out[f] = v // every scalar a string; an empty reference is ""
	}
	return out
}
