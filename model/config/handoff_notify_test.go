package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
)

// With teams configured the handoff lists the impacted teams never told;
// without, it lists none (there was no way to tell them).
func TestHandoffOptionsCarryTheTeams(t *testing.T) {
	now := time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)
	c := &Config{Services: []Service{{Name: "db-main", Owner: "dba"}, {Name: "payments", Owner: "payments", DependsOn: []string{"db-main"}}}}
	opt := c.HandoffOptions(model.HandoffSpan{Shift: "current"}, now)
	assert.Nil(t, opt.Catalog)
	assert.Nil(t, opt.NotifyTeams)

	c.Teams = []OwnerTeam{{Name: "dba"}, {Name: "payments"}}
	opt = c.HandoffOptions(model.HandoffSpan{Shift: "current"}, now)
	require.NotNil(t, opt.Catalog)
	assert.Equal(t, "dba", opt.Catalog.Lookup("db-main").Owner)
	assert.Equal(t, []string{"dba", "payments"}, opt.NotifyTeams)
}
