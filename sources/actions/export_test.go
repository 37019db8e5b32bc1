package actions

import "sitroom/model"

// NotifyResolved runs one pass of the resolved notifications the board
// loop makes (notify_on_resolve), for tests.
func (d *Dispatcher) NotifyResolved(b *model.Board) int { return d.notifyResolved(b) }
