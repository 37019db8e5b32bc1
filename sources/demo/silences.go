package demo

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// userSilences are the silences created through the demo Alertmanagers'
// API (by sitroom's ack). Both members of the pair share them, as gossip
// makes real ones do. Times are wall-clock, as a real Alertmanager's are.
type userSilences struct {
	mu   sync.Mutex
	list []*userSilence
}

type userSilence struct {
	id        string
	matchers  []amMatcher
	res       []*regexp.Regexp // compiled regex matchers, nil for equality ones
	createdBy string
	comment   string
	startsAt  time.Time
	endsAt    time.Time
	updatedAt time.Time
}

// postableSilence is the body of POST /api/v2/silences.
type postableSilence struct {
	ID        string      `json:"id"`
	Matchers  []amMatcher `json:"matchers"`
	StartsAt  time.Time   `json:"startsAt"`
	EndsAt    time.Time   `json:"endsAt"`
	CreatedBy string      `json:"createdBy"`
	Comment   string      `json:"comment"`
}

func newSilenceID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// create validates and stores a silence, answering as Alertmanager 0.25
// does: 400 with a JSON string naming the problem, 200 {"silenceID": id}.
func (u *userSilences) create(w http.ResponseWriter, r *http.Request, now time.Time) {
	var p postableSilence
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&p); err != nil {
		amJSONError(w, http.StatusBadRequest, "parsing silence body: "+err.Error())
		return
	}
	s := &userSilence{matchers: p.Matchers, createdBy: p.CreatedBy, comment: p.Comment, startsAt: p.StartsAt, endsAt: p.EndsAt, updatedAt: now}
	var problem string
	switch {
	case len(p.Matchers) == 0:
		problem = "at least one matcher required"
	case p.CreatedBy == "":
		problem = "creator information missing"
	case p.Comment == "":
		problem = "comment missing"
	case !p.EndsAt.After(p.StartsAt):
		problem = "end time must not be before start time"
	case p.EndsAt.Before(now):
		problem = "end time can't be in the past"
	}
	for _, m := range p.Matchers {
		var re *regexp.Regexp
		if m.IsRegex {
			var err error
			if re, err = regexp.Compile("^(?:" + m.Value + ")$"); err != nil {
				problem = fmt.Sprintf("invalid regular expression %q", m.Value)
			}
		}
		s.res = append(s.res, re)
	}
	if problem != "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode("invalid silence: " + problem)
		return
	}
	if s.startsAt.Before(now) {
		s.startsAt = now
	}
	u.mu.Lock()
	s.id = newSilenceID()
	if p.ID != "" { // an update replaces the silence it names
		for _, old := range u.list {
			if old.id == p.ID && old.endsAt.After(now) {
				old.endsAt = now
			}
		}
	}
	u.list = append(u.list, s)
	u.mu.Unlock()
	writeJSON(w, map[string]string{"silenceID": s.id})
}

// expire handles DELETE /api/v2/silence/{id}.
func (u *userSilences) expire(w http.ResponseWriter, r *http.Request, now time.Time) {
	id := strings.TrimPrefix(r.URL.Path, "/api/v2/silence/")
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, s := range u.list {
		if s.id == id {
			if s.endsAt.After(now) {
				s.endsAt, s.updatedAt = now, now
			}
			w.WriteHeader(http.StatusOK)
			return
		}
	}
	amJSONError(w, http.StatusNotFound, "silence "+id+" not found")
}

// silencing lists the ids of the active silences matching labels at now.
func (u *userSilences) silencing(labels map[string]string, now time.Time) []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	var ids []string
	for _, s := range u.list {
		if now.Before(s.startsAt) || !now.Before(s.endsAt) {
			continue
		}
		if s.matches(labels) {
			ids = append(ids, s.id)
		}
	}
	return ids
}

func (s *userSilence) matches(labels map[string]string) bool {
	for i, m := range s.matchers {
		v := labels[m.Name]
		var ok bool
		if s.res[i] != nil {
			ok = s.res[i].MatchString(v)
		} else {
			ok = v == m.Value
		}
		if ok != m.IsEqual {
			return false
		}
	}
	return true
}

// all renders every user silence in the API's shape.
func (u *userSilences) all(now time.Time) []amSilence {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]amSilence, 0, len(u.list))
	for _, s := range u.list {
		state := "active"
		switch {
		case now.Before(s.startsAt):
			state = "pending"
		case !now.Before(s.endsAt):
			state = "expired"
		}
		out = append(out, amSilence{
			ID: s.id, Status: amSilStatus{State: state}, UpdatedAt: amTime(s.updatedAt), Comment: s.comment,
			CreatedBy: s.createdBy, StartsAt: amTime(s.startsAt), EndsAt: amTime(s.endsAt), Matchers: s.matchers,
		})
	}
	return out
}
