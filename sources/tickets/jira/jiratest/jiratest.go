// Package jiratest is a Jira Service Management Cloud test server: the
// endpoints the jira ticket source uses, answering in the shapes
// Atlassian's REST v3 and servicedeskapi documentation show (examples in
// testdata/jira/). It is for tests and keeps everything in memory.
//
// It understands only the JQL its tests register with Server.JQL, and
// these forms built on registered queries Q, R: "(Q) AND id = N",
// "(Q) AND updated >= \"yyyy/MM/dd HH:mm\"" and
// "updated >= \"yyyy/MM/dd HH:mm\" AND NOT ((Q) OR (R))", the date read in
// Server.Location as Jira reads it in the account's time zone; any other
// query is a 400 as Jira answers bad JQL.
package jiratest

import (
	"cmp"
	"encoding/base64"
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

// Issue is one issue the server holds.
type Issue struct {
	ID, Key, Summary, Status, Priority, Project string
	AssigneeID, AssigneeName, ReporterName      string
	Created, Updated                            time.Time
	Components                                  []string
	// SLA, when not nil, is the running "Time to resolution" cycle.
	SLA *SLA
	// Comments are the servicedeskapi comments added.
	Comments []Comment
}

// SLA is an ongoing SLA cycle.
type SLA struct {
	Breach    time.Time
	Remaining time.Duration
	Breached  bool
	Paused    bool
}

// Comment is a servicedeskapi comment.
type Comment struct {
	Body    string
	Public  bool
	Created time.Time
}

// Transition is a workflow transition: available to every issue whose
// status is From (any when empty); it sets the status To.
type Transition struct {
	ID, Name, From, To string
}

// Server is the fake Jira site.
type Server struct {
	*httptest.Server
	// Email and Token are the accepted basic-auth credentials.
	Email, Token string

	// desk counts requests, throttles and loses comment replies.
	desk desktest.Desk

	mu          sync.Mutex
	issues      []*Issue
	jql         map[string]func(*Issue) bool
	transitions []Transition
	maxResults  int
	queries     []string
	loc         *time.Location
}

// SetLocation sets the time zone JQL dates are read in (UTC by default),
// as Jira reads them in the account's own time zone.
func (s *Server) SetLocation(loc *time.Location) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loc = loc
}

// Queries returns the JQL of every search made since the last call, in
// order, and forgets them.
func (s *Server) Queries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.queries
	s.queries = nil
	return out
}

// Update changes an issue with fn and stamps it updated at when, as an
// edit on the site would; it reports whether the issue exists.
func (s *Server) Update(id string, when time.Time, fn func(*Issue)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.find(id)
	if is == nil {
		return false
	}
	fn(is)
	is.Updated = when
	return true
}

// New starts a server; it is closed when the test ends.
func New(t interface{ Cleanup(func()) }) *Server {
	s := &Server{Email: "noc@example.com", Token: "jira-api-token", jql: map[string]func(*Issue) bool{}, maxResults: 100}
	s.Server = s.desk.Serve(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("RateLimit-Reason", "jira-burst-based")
		platformError(w, http.StatusTooManyRequests, "Rate limit exceeded.")
	}, s.serve)
	return s
}

// Add adds issues.
func (s *Server) Add(issues ...*Issue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.issues = append(s.issues, issues...)
}

// Issue returns a copy of the issue with this id or key.
func (s *Server) Issue(id string) Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	if is := s.find(id); is != nil {
		c := *is
		c.Comments = append([]Comment(nil), is.Comments...)
		return c
	}
	return Issue{}
}

// JQL registers a query the server understands.
func (s *Server) JQL(query string, match func(*Issue) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jql[query] = match
}

// Transitions sets the workflow's transitions.
func (s *Server) Transitions(ts ...Transition) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.transitions = ts
}

// Throttle makes the next n requests answer 429 with Retry-After.
func (s *Server) Throttle(n int, retryAfter string) { s.desk.Throttle(n, retryAfter) }

// MaxResults caps the page size the server grants (default 100).
func (s *Server) MaxResults(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxResults = n
}

// LoseCommentReplies makes the next n comment POSTs take the comment and
// then cut the connection without an answer, as when a reply is lost on
// the way back.
func (s *Server) LoseCommentReplies(n int) { s.desk.LoseReplies(n) }

// Requests returns how many requests were made to "METHOD path".
func (s *Server) Requests(key string) int { return s.desk.Requests(key) }

func (s *Server) find(id string) *Issue {
	for _, is := range s.issues {
		if is.ID == id || is.Key == id {
			return is
		}
	}
	return nil
}

func platformError(w http.ResponseWriter, code int, msgs ...string) {
	desktest.WriteJSON(w, code, map[string]any{"errorMessages": msgs, "errors": map[string]string{}})
}

var (
	issuePath = regexp.MustCompile(`^/rest/api/3/issue/([A-Za-z0-9_-]+)/(transitions|assignee)$`)
	sdPath    = regexp.MustCompile(`^/rest/servicedeskapi/request/([A-Za-z0-9_-]+)/(sla|comment)$`)
	idSuffix  = regexp.MustCompile(`^\((.*)\) AND id = ([A-Za-z0-9_-]+)$`)
	since     = regexp.MustCompile(`^\((.*)\) AND updated >= "(\d{4}/\d\d/\d\d \d\d:\d\d)"$`)
	left      = regexp.MustCompile(`^updated >= "(\d{4}/\d\d/\d\d \d\d:\d\d)" AND NOT \(\((.*)\)\)$`)
)

// compile returns the matcher of a query it understands, or nil.
func (s *Server) compile(jql string) func(*Issue) bool {
	if m := s.jql[jql]; m != nil {
		return m
	}
	loc := s.loc
	if loc == nil {
		loc = time.UTC
	}
	if m := idSuffix.FindStringSubmatch(jql); m != nil && s.jql[m[1]] != nil {
		inner, id := s.jql[m[1]], m[2]
		return func(is *Issue) bool { return (is.ID == id || is.Key == id) && inner(is) }
	}
	if m := since.FindStringSubmatch(jql); m != nil && s.jql[m[1]] != nil {
		inner := s.jql[m[1]]
		t, err := time.ParseInLocation("2006/01/02 15:04", m[2], loc)
		if err != nil {
			return nil
		}
		return func(is *Issue) bool { return !is.Updated.Before(t) && inner(is) }
	}
	if m := left.FindStringSubmatch(jql); m != nil {
		t, err := time.ParseInLocation("2006/01/02 15:04", m[1], loc)
		if err != nil {
			return nil
		}
		body := m[2] // Q) OR (R
		for i := 0; i < len(body); i++ {
			j := strings.Index(body[i:], ") OR (")
			if j < 0 {
				break
			}
			q, r := s.jql[body[:i+j]], s.jql[body[i+j+len(") OR ("):]]
			if q != nil && r != nil {
				return func(is *Issue) bool { return !is.Updated.Before(t) && !q(is) && !r(is) }
			}
			i += j
		}
	}
	return nil
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, p, ok := r.BasicAuth(); !ok || u != s.Email || p != s.Token {
		w.Header().Set("WWW-Authenticate", `Basic realm="protected-by-api-token"`)
		platformError(w, http.StatusUnauthorized, "You are not authenticated. Authentication required to perform this operation.")
		return
	}
	switch p := r.URL.Path; {
	case p == "/rest/api/3/search" || p == "/rest/api/2/search":
		platformError(w, http.StatusGone, "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046")
	case p == "/rest/api/3/search/jql" && r.Method == http.MethodGet:
		s.search(w, r)
	case issuePath.MatchString(p):
		m := issuePath.FindStringSubmatch(p)
		is := s.find(m[1])
		if is == nil {
			platformError(w, http.StatusNotFound, "Issue does not exist or you do not have permission to see it.")
			return
		}
		s.issueOp(w, r, is, m[2])
	case sdPath.MatchString(p):
		m := sdPath.FindStringSubmatch(p)
		is := s.find(m[1])
		if is == nil {
			desktest.WriteJSON(w, http.StatusNotFound, map[string]any{"errorMessage": "Request does not exist or you do not have permission to see it.", "i18nErrorMessage": map[string]any{"i18nKey": "sd.request.not.found", "parameters": []string{}}})
			return
		}
		s.sdOp(w, r, is, m[2])
	default:
		platformError(w, http.StatusNotFound, "Not found")
	}
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	jql := q.Get("jql")
	s.queries = append(s.queries, jql)
	match := s.compile(jql)
	if match == nil {
		platformError(w, http.StatusBadRequest, fmt.Sprintf("Error in the JQL Query: %q is not understood.", jql))
		return
	}
	max := 50
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			platformError(w, http.StatusBadRequest, "maxResults must be a positive number")
			return
		}
		max = n
	}
	max = min(max, s.maxResults)
	start := 0
	if tok := q.Get("nextPageToken"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "off:"))
		if err != nil || err2 != nil || !strings.HasPrefix(string(b), "off:") {
			platformError(w, http.StatusBadRequest, "Invalid nextPageToken.")
			return
		}
		start = n
	}
	var hits []*Issue
	for _, is := range s.issues {
		if match(is) {
			hits = append(hits, is)
		}
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].Key < hits[j].Key })
	fields := map[string]bool{}
	for _, f := range strings.Split(q.Get("fields"), ",") {
		fields[f] = true
	}
	var page []map[string]any
	end := min(start+max, len(hits))
	for _, is := range hits[min(start, len(hits)):end] {
		page = append(page, s.render(is, fields))
	}
	out := map[string]any{"issues": page, "isLast": end >= len(hits)}
	if page == nil {
		out["issues"] = []any{}
	}
	if end < len(hits) {
		out["nextPageToken"] = base64.RawURLEncoding.EncodeToString([]byte("off:" + strconv.Itoa(end)))
	}
	desktest.WriteJSON(w, http.StatusOK, out)
}

func jiraDate(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-0700") }

func dateDTO(t time.Time) map[string]any {
	return map[string]any{"iso8601": t.UTC().Format("2006-01-02T15:04:05-0700"), "jira": jiraDate(t), "friendly": t.UTC().Format("02/Jan/06 3:04 PM"), "epochMillis": t.UnixMilli()}
}

func slaJSON(is *Issue, base string) map[string]any {
	sla := map[string]any{"id": "3", "name": "Time to resolution", "completedCycles": []any{},
		"_links": map[string]string{"self": base + "/rest/servicedeskapi/request/" + is.ID + "/sla/3"}}
	if c := is.SLA; c != nil {
		sla["ongoingCycle"] = map[string]any{
			"startTime": dateDTO(is.Created), "breachTime": dateDTO(c.Breach),
			"breached": c.Breached, "paused": c.Paused, "withinCalendarHours": true,
			"goalDuration":  map[string]any{"millis": c.Breach.Sub(is.Created).Milliseconds(), "friendly": c.Breach.Sub(is.Created).String()},
			"elapsedTime":   map[string]any{"millis": (c.Breach.Sub(is.Created) - c.Remaining).Milliseconds(), "friendly": ""},
			"remainingTime": map[string]any{"millis": c.Remaining.Milliseconds(), "friendly": c.Remaining.String()},
		}
	}
	return sla
}

func (s *Server) render(is *Issue, fields map[string]bool) map[string]any {
	f := map[string]any{}
	set := func(k string, v any) {
		if fields[k] || fields["*all"] {
			f[k] = v
		}
	}
	set("summary", is.Summary)
	set("status", map[string]any{"name": is.Status, "statusCategory": map[string]string{"key": "indeterminate"}})
	if is.Priority != "" {
		set("priority", map[string]string{"name": is.Priority})
	} else {
		set("priority", nil)
	}
	if is.AssigneeID != "" {
		set("assignee", map[string]string{"accountId": is.AssigneeID, "displayName": is.AssigneeName})
	} else {
		set("assignee", nil)
	}
	set("reporter", map[string]string{"accountId": "5b10a2844c20165700ede21g", "displayName": is.ReporterName})
	set("created", jiraDate(is.Created))
	set("updated", jiraDate(is.Updated))
	set("project", map[string]string{"key": is.Project, "name": is.Project + " Service Desk"})
	var comps []map[string]string
	for _, c := range is.Components {
		comps = append(comps, map[string]string{"name": c})
	}
	if comps == nil {
		comps = []map[string]string{}
	}
	set("components", comps)
	set("customfield_10030", slaJSON(is, s.URL))
	return map[string]any{"expand": "", "id": is.ID, "key": is.Key, "self": s.URL + "/rest/api/3/issue/" + is.ID, "fields": f}
}

func (s *Server) issueOp(w http.ResponseWriter, r *http.Request, is *Issue, op string) {
	switch {
	case op == "transitions" && r.Method == http.MethodGet:
		var list []map[string]any
		for _, t := range s.transitions {
			if t.From == "" || t.From == is.Status {
				list = append(list, map[string]any{"id": t.ID, "name": t.Name, "to": map[string]any{"id": "1" + t.ID, "name": t.To, "statusCategory": map[string]string{"key": "indeterminate"}},
					"hasScreen": false, "isGlobal": false, "isInitial": false, "isAvailable": true, "isConditional": false, "isLooped": false})
			}
		}
		if list == nil {
			list = []map[string]any{}
		}
		desktest.WriteJSON(w, http.StatusOK, map[string]any{"expand": "transitions", "transitions": list})
	case op == "transitions" && r.Method == http.MethodPost:
		var body struct {
			Transition struct {
				ID string `json:"id"`
			} `json:"transition"`
		}
		if json.NewDecoder(r.Body).Decode(&body) != nil {
			platformError(w, http.StatusBadRequest, "Invalid request payload.")
			return
		}
		for _, t := range s.transitions {
			if t.ID == body.Transition.ID && (t.From == "" || t.From == is.Status) {
				is.Status, is.Updated = t.To, time.Now().UTC()
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		desktest.WriteJSON(w, http.StatusBadRequest, map[string]any{"errorMessages": []string{}, "errors": map[string]string{"transition": "Transition id '" + body.Transition.ID + "' is not valid for this issue."}})
	case op == "assignee" && r.Method == http.MethodPut:
		var body struct {
			AccountID *string `json:"accountId"`
		}
		if json.NewDecoder(r.Body).Decode(&body) != nil {
			platformError(w, http.StatusBadRequest, "Invalid request payload.")
			return
		}
		if body.AccountID == nil {
			is.AssigneeID, is.AssigneeName = "", ""
		} else {
			is.AssigneeID, is.AssigneeName = *body.AccountID, "user "+*body.AccountID
		}
		is.Updated = time.Now().UTC()
		w.WriteHeader(http.StatusNoContent)
	default:
		platformError(w, http.StatusMethodNotAllowed, "Method not allowed")
	}
}

func (s *Server) sdOp(w http.ResponseWriter, r *http.Request, is *Issue, op string) {
	switch {
	case op == "sla" && r.Method == http.MethodGet:
		vals := []any{}
		if is.SLA != nil {
			vals = append(vals, slaJSON(is, s.URL))
		}
		desktest.WriteJSON(w, http.StatusOK, map[string]any{"size": len(vals), "start": 0, "limit": 50, "isLastPage": true, "values": vals,
			"_links": map[string]string{"base": s.URL, "context": "", "self": s.URL + r.URL.Path}})
	case op == "comment" && r.Method == http.MethodPost:
		var body struct {
			Body   *string `json:"body"`
			Public *bool   `json:"public"`
		}
		if json.NewDecoder(r.Body).Decode(&body) != nil || body.Body == nil {
			desktest.WriteJSON(w, http.StatusBadRequest, map[string]any{"errorMessage": "The comment body is required.", "i18nErrorMessage": map[string]any{"i18nKey": "sd.comment.body.required", "parameters": []string{}}})
			return
		}
		pub := body.Public == nil || *body.Public
		is.Comments = append(is.Comments, Comment{Body: *body.Body, Public: pub, Created: time.Now().UTC()})
		is.Updated = time.Now().UTC()
		if s.desk.LoseReply(w) {
			return
		}
		desktest.WriteJSON(w, http.StatusCreated, map[string]any{"id": strconv.Itoa(1000 + len(is.Comments)), "body": *body.Body, "public": pub,
			"created": dateDTO(time.Now()), "_links": map[string]string{"self": s.URL + r.URL.Path}})
	case op == "comment" && r.Method == http.MethodGet:
		s.comments(w, r, is)
	default:
		platformError(w, http.StatusMethodNotAllowed, "Method not allowed")
	}
}

// comments answers GET .../request/{key}/comment: public and internal
// (both true by default), start/limit offset paging in the servicedeskapi
// envelope, oldest first.
func (s *Server) comments(w http.ResponseWriter, r *http.Request, is *Issue) {
	q := r.URL.Query()
	flag := func(k string) (bool, bool) {
		switch v := q.Get(k); v {
		case "", "true":
			return true, true
		case "false":
			return false, true
		}
		return false, false
	}
	pub, ok1 := flag("public")
	internal, ok2 := flag("internal")
	start, err1 := strconv.Atoi(cmp.Or(q.Get("start"), "0"))
	limit, err2 := strconv.Atoi(cmp.Or(q.Get("limit"), "50"))
	if !ok1 || !ok2 || err1 != nil || err2 != nil || start < 0 || limit <= 0 {
		desktest.WriteJSON(w, http.StatusBadRequest, map[string]any{"errorMessage": "Invalid request parameters.", "i18nErrorMessage": map[string]any{"i18nKey": "sd.request.param.invalid", "parameters": []string{}}})
		return
	}
	limit = min(limit, s.maxResults)
	var sel []map[string]any
	for i, c := range is.Comments {
		if c.Public && !pub || !c.Public && !internal {
			continue
		}
		id := strconv.Itoa(1001 + i)
		sel = append(sel, map[string]any{"id": id, "body": c.Body, "public": c.Public,
			"author":  map[string]any{"accountId": "5b10a2844c20165700ede21g", "displayName": "sitroom", "emailAddress": s.Email, "active": true, "timeZone": "UTC"},
			"created": dateDTO(c.Created), "_links": map[string]string{"self": s.URL + "/rest/servicedeskapi/request/" + is.ID + "/comment/" + id}})
	}
	end := min(start+limit, len(sel))
	vals := []map[string]any{}
	if start < len(sel) {
		vals = sel[start:end]
	}
	links := map[string]string{"base": s.URL, "context": "", "self": s.URL + r.URL.RequestURI()}
	if end < len(sel) {
		links["next"] = s.URL + r.URL.Path + "?start=" + strconv.Itoa(end) + "&limit=" + strconv.Itoa(limit)
	}
	desktest.WriteJSON(w, http.StatusOK, map[string]any{"_expands": []string{}, "size": len(vals), "start": start, "limit": limit,
		"isLastPage": end >= len(sel), "values": vals, "_links": links})
}
