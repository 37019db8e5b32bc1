package model

import (
	"strings"
	"time"
)

// Verbs of the silences view: acting on Alertmanager silences directly,
// whoever made them.
const (
	// VerbExpireSilence ends a silence now, on every Alertmanager that
	// holds it.
	VerbExpireSilence Verb = "expire-silence"
	// VerbExtendSilence moves a silence's end later by the request's
	// Expiry.
	VerbExtendSilence Verb = "extend-silence"
	// VerbCreateSilence creates a silence with the request's matchers,
	// lasting its Expiry, on the Alertmanagers that hold the alert it was
	// made from.
	VerbCreateSilence Verb = "create-silence"
)

// Delivery kinds of the silences view's actions. Dest is an
// Alertmanager source, or for an extension or a new silence the
// comma-separated members that hold it (one cluster: the first that
// answers takes it, the others learn it by gossip).
const (
	DeliverSilenceExpire = "silence-expire" // Key: the silence id
	DeliverSilenceExtend = "silence-extend" // Key: the silence id; Until: its new end
	DeliverSilenceCreate = "silence-create" // Key: the alert it was made from; Payload: {"matchers": "…"}; Until: its end
)

// SilenceTarget is the silence a silences-view action acts on.
type SilenceTarget struct {
	// ID is the silence expired or extended; "" for a new one.
	ID string
	// Sources are the Alertmanager sources known to hold it (a new one:
	// those holding the alert it is made from); the dispatcher adds those
	// its own records name.
	Sources []string
	// CreatedBy is its author: who may expire it depends on it.
	CreatedBy string
	// EndsAt is its end as shown when the action was asked for.
	EndsAt time.Time
	// Matchers are a new silence's matchers in Alertmanager's syntax.
	Matchers string
}

func (v Verb) silence() bool {
	return v == VerbExpireSilence || v == VerbExtendSilence || v == VerbCreateSilence
}

// silenceRefusal applies the roles to the silences view's actions, or
// returns "": a tier1 operator creates silences, extends any and expires
// their own; expiring someone else's silence (a colleague's ack, a
// planned maintenance) makes its alerts page again and takes tier2.
func silenceRefusal(op Operator, req ActionRequest) string {
	if req.Verb != VerbExpireSilence || op.Role >= RoleTier2 {
		return ""
	}
	if by := req.Silence.CreatedBy; by != op.User {
		if by == "" {
			by = "someone else"
		}
		return "role " + op.Role.String() + " expires only its own silences (this one is " + by + "'s; needs tier2)"
	}
	return ""
}

func silenceVerbWords(v Verb) string {
	switch v {
	case VerbExpireSilence:
		return "expire silences"
	case VerbExtendSilence:
		return "extend silences"
	}
	return "create silences"
}

func (r *ActionRequest) silenceTarget() string {
	if r.Verb == VerbCreateSilence {
		return "silence " + r.Silence.Matchers
	}
	return "silence " + r.Silence.ID
}

func (r *ActionRequest) validateSilence() string {
	s := &r.Silence
	if r.Verb != VerbCreateSilence && s.ID == "" {
		return "select a silence"
	}
	switch r.Verb {
	case VerbExtendSilence:
		if r.Expiry <= 0 {
			return "extend by a positive duration"
		}
	case VerbCreateSilence:
		if _, err := ParseMatchers(s.Matchers); err != nil {
			return "matchers: " + err.Error()
		}
		if strings.TrimSpace(r.Comment) == "" {
			return "a comment is required"
		}
		if r.Expiry <= 0 {
			return "the silence needs a positive duration"
		}
	}
	return ""
}
