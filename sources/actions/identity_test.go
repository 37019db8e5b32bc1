package actions_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources/actions"
)

// The team store's word (Options.Gate) is asked after the policy allowed
// a request and before anything is recorded as done: its refusal is
// audited and returned like any refusal, and nothing is delivered.
func TestGateRefusalRecordedAndNothingDelivered(t *testing.T) {
	var calls atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer hook.Close()
	c := openCache(t, filepath.Join(t.TempDir(), "c.db"))
	levels := []model.EscalationLevel{{Level: 1, Who: "NOC"}, {Level: 2, Who: "owner on-call"}}
	var asked []model.ActionRequest
	d := actions.New(c, actions.Options{Operator: tier1(), Policy: &model.Policy{Levels: levels},
		Webhooks: []actions.Webhook{{Name: "hook", URL: hook.URL}},
		Gate: func(_ context.Context, req model.ActionRequest) string {
			asked = append(asked, req)
			if req.Level == 2 {
				return "refused by the team store: role tier1 cannot escalate to level 2 (needs tier2)"
			}
			return ""
		}})
	res, err := d.Do(context.Background(), model.ActionRequest{Verb: model.VerbEscalate, Service: "checkout", Level: 2,
		AlertKeys: []string{"k1"}, Comment: "db down"})
	require.NoError(t, err)
	assert.Equal(t, model.ActionRefused, res.State)
	assert.Equal(t, "refused by the team store: role tier1 cannot escalate to level 2 (needs tier2)", res.Message)
	deliver(t, d)
	assert.Zero(t, calls.Load(), "nothing delivered")
	b, err := d.Board()
	require.NoError(t, err)
	assert.Nil(t, b.Escalations["checkout"], "not escalated")
	log, err := c.AuditLog(time.Time{})
	require.NoError(t, err)
	require.Len(t, log, 1)
	assert.Equal(t, model.ActionRefused, log[0].State)
	assert.Equal(t, res.Message, log[0].Reason)

	// A refusal of the policy is not asked of the store.
	res, err = d.Do(context.Background(), model.ActionRequest{Verb: model.VerbEscalate, Service: "checkout", Level: 9, Comment: "x"})
	require.NoError(t, err)
	assert.Equal(t, model.ActionRefused, res.State)
	require.Len(t, asked, 1)

	res, err = d.Do(context.Background(), model.ActionRequest{Verb: model.VerbEscalate, Service: "checkout", Level: 1,
		AlertKeys: []string{"k1"}, Comment: "db down"})
	require.NoError(t, err)
	assert.Equal(t, model.ActionPending, res.State, "allowed by both")
	deliver(t, d)
	assert.EqualValues(t, 1, calls.Load())
}

// SetOperator changes who acts from the next request on: what the policy
// allows, who the audit log names.
func TestSetOperatorFollowsTheTeamIdentity(t *testing.T) {
	c := openCache(t, filepath.Join(t.TempDir(), "c.db"))
	d := actions.New(c, actions.Options{Operator: model.Operator{User: "root", Host: "jump1", Role: model.RoleTier1}})
	note := model.ActionRequest{Verb: model.VerbNote, Comment: "shift starts"}
	assert.Empty(t, d.Check(note))

	d.SetOperator(model.Operator{User: "view1", Host: "jump1", Role: model.RoleViewer}, true)
	assert.Equal(t, "view1", d.Operator().User)
	assert.Equal(t, "role viewer cannot write notes", d.Check(note))
	res, err := d.Do(context.Background(), note)
	require.NoError(t, err)
	assert.Equal(t, model.ActionRefused, res.State)

	d.SetOperator(model.Operator{User: "ops1", Host: "jump1", Role: model.RoleTier1}, true)
	res, err = d.Do(context.Background(), note)
	require.NoError(t, err)
	assert.Equal(t, model.ActionDelivered, res.State)
	log, err := c.AuditLog(time.Time{})
	require.NoError(t, err)
	require.Len(t, log, 2)
	assert.Equal(t, "view1", log[0].Operator)
	assert.Equal(t, model.RoleViewer, log[0].Role)
	assert.Equal(t, "ops1", log[1].Operator)
	assert.Equal(t, model.RoleTier1, log[1].Role)
}
