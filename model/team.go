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
}
