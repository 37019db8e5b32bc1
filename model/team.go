package model

import "time"

// TeamAction is one action as the consoles of a team exchange it through
// the team store: the action as recorded (audit row with its uid and
// state, what it did, its deliveries with their states now) and what
// became of its effect since. Every field only moves forward (a pending
// delivery becomes delivered, failed or cancelled; an ack or escalation
// in force becomes cleared; an ack ends upstream), so applying the same
// TeamAction twice, or an older one after a newer one, changes nothing.
type TeamAction struct {
	Action
	// ClearedAt is when the ack or escalation this action made was
	// cleared (un-acked, superseded by a later escalation, cleared when
	// its outage resolved), by ClearedBy; zero while it stands.
	ClearedAt time.Time
	ClearedBy string
	// EndedAt is when the ack this action made was seen ended upstream,
	// and Ended why ("silence expired"); zero otherwise.
	EndedAt time.Time
	Ended   string
}

// TeamChanges is what changed in the team store after a cursor: every
// action (with its effect and deliveries) any of whose rows changed. A
// console merges them into its own cache (forward only, see TeamAction)
// and reads from Next on.
type TeamChanges struct {
	Actions []TeamAction
	Next    int64
}

// TeamState is the team store as one console sees it, for its header chip
// and `sitroom check`.
type TeamState struct {
	// Configured is set when the config names a team store; nothing else
	// is meaningful without it.
	Configured bool
	// OK is set while the last exchange with the store succeeded.
	OK bool
	// Since is when the store was last found down (zero while OK) and
	// LastSync when the last exchange succeeded (zero: never this run).
	Since    time.Time
	LastSync time.Time
	// Error says why the store is not OK, in words, never the password.
	Error string
	// Unsynced counts this console's changes not yet in the store.
	Unsynced int

	// Who this console acts as (docs/team.md, "Who acts"). User is the
	// operator its actions are recorded as and Role what they may do: the
	// store's current_user and their membership of the team's group roles
	// when the store vouches for them (Enforced), else the OS user and
	// the role the config gives them (a store whose URL connects as its
	// owner: the lab setup). OSUser is the OS user running the console.
	// Verified is set once the identity was read from the store this run;
	// until then it is the one last read for this cache and store, or the
	// OS user's.
	User     string
	OSUser   string
	Role     Role
	Enforced bool
	Verified bool
	// Refused is the last of this console's actions the store refused
	// when it was pushed (an action made while the store was down that
	// the client's policy allowed), in words, at RefusedAt; the console
	// marks it refused in its cache and pushes the rest.
	Refused   string
	RefusedAt time.Time
}

// OperatorLabel is how the header names who acts: "ops1 · tier1", or
// "ops1 (database) as OS user root · tier1" when the store's user is not
// the OS user, with " (unverified)" while the identity was not read from
// the store this run. "" when no identity is known.
func (t TeamState) OperatorLabel() string {
	if t.User == "" {
		return ""
	}
	s := t.User
	if t.Enforced && t.OSUser != "" && t.OSUser != t.User {
		s += " (database) as OS user " + t.OSUser
	}
	s += " · " + t.Role.String()
	if !t.Verified {
		s += " (unverified)"
	}
	return s
}
