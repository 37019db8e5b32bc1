package sourcetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// WithAlertmanagerCluster turns clustering on: gossip on listen
// (host:port) with the given peers.
func WithAlertmanagerCluster(listen string, peers ...string) AMOption {
	return func(o *amOptions) {
		o.cluster = []string{"--cluster.listen-address=" + listen, "--cluster.gossip-interval=100ms"}
		for _, p := range peers {
			o.cluster = append(o.cluster, "--cluster.peer="+p)
		}
	}
}

// StartAlertmanagerPair starts two Alertmanagers clustered with each
// other, as an HA pair runs (silences gossiped between them), and waits
// until each lists the other as a peer.
func StartAlertmanagerPair(t testing.TB, opts ...AMOption) (a, b *Server) {
	t.Helper()
	ga := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	gb := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	a = StartAlertmanager(t, append(append([]AMOption(nil), opts...), WithAlertmanagerCluster(ga, gb))...)
	b = StartAlertmanager(t, append(append([]AMOption(nil), opts...), WithAlertmanagerCluster(gb, ga))...)
	deadline := time.Now().Add(20 * time.Second)
	for _, s := range []*Server{a, b} {
		for {
			n, err := clusterPeers(s.URL)
			if err == nil && n == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("alertmanager %s did not join its peer (it lists %d of 2 peers, %v); log tail:\n%s", s.URL, n, err, s.LogTail(2048))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return a, b
}

// clusterPeers counts the peers (itself included) an Alertmanager's
// status lists.
func clusterPeers(url string) (int, error) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url + "/api/v2/status")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var st struct {
		Cluster struct {
			Peers []json.RawMessage `json:"peers"`
		} `json:"cluster"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0, err
	}
	return len(st.Cluster.Peers), nil
}
