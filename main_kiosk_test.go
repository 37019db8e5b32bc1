package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The wall screen's flags: listed in the usage, a rotation shorter than a
// second refused before anything starts.
func TestKioskFlags(t *testing.T) {
	code, out, _ := runCmd(t, "help")
	assert.Equal(t, 0, code)
	for _, f := range []string{"--kiosk", "-kiosk-rotate", "--mouse"} {
		assert.Contains(t, out, f)
	}
	code, _, errOut := runCmd(t, "--kiosk", "--kiosk-rotate", "200ms")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--kiosk-rotate 200ms is too short")
	code, _, errOut = runCmd(t, "--kiosk-rotate", "soon")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "kiosk-rotate")
}
