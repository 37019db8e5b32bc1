package sourcetest

import (
	"strings"
	"testing"
	"time"
)

// RestartWithoutPeers stops a clustered Alertmanager and starts it again
// on the same ports without its --cluster.peer flags, as a member
// restarted with a wrong config does: it runs, clustered, alone (a
// split). It returns once the server is ready.
func (s *Server) RestartWithoutPeers(t testing.TB) {
	t.Helper()
	s.Stop()
	kept := s.args[:0:0]
	for _, a := range s.args {
		if !strings.HasPrefix(a, "--cluster.peer=") {
			kept = append(kept, a)
		}
	}
	s.args = kept
	s.launch(t, s.name+"-alone.log")
	if err := waitReady(s, 20*time.Second); err != nil {
		t.Fatalf("%s did not become ready after a restart: %v", s.name, err)
	}
}
