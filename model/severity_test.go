package model

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseSeverity(t *testing.T) {
	assert.Equal(t, SevCritical, ParseSeverity("Critical"))
	assert.Equal(t, SevCritical, ParseSeverity(" page "))
	assert.Equal(t, SevWarning, ParseSeverity("warning"))
	assert.Equal(t, SevInfo, ParseSeverity("info"))
	assert.Equal(t, SevNone, ParseSeverity("whatever"))
	assert.Equal(t, "CRIT", SevCritical.String())
	assert.Equal(t, "warning", SevWarning.Name())
	assert.True(t, SevCritical > SevWarning && SevWarning > SevInfo && SevInfo > SevNone)
}
