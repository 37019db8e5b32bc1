package runtime_test

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"

	"sitroom/sources/cloudwatch/cwtest"
	"sitroom/sources/runtime/bintest"
)

// `sitroom check` on CloudWatch sources: the identity each resolved, or
// why none, and never a key, whether it sits in the environment or in the
// shared credentials file.
func TestCheckCloudWatchIdentityAndSecrets(t *testing.T) {
	const (
		key, secret       = "AKIACHECKEXAMPLE0001", "checkPlantedSecretKey00000000000000000001"
		envKey, envSecret = "AKIAENVCHECKEXAMPLE1", "envPlantedSecretKey000000000000000000002"
		expKey, expSecret = "AKIAEXPIREDEXAMPLE01", "expiredPlantedSecret00000000000000000003"
		sessionToken      = "plantedSessionTokenNeverPrinted"
	)
	isolateAWS(t, envKey, envSecret, fmt.Sprintf(
		"[noc]\naws_access_key_id = %s\naws_secret_access_key = %s\n\n[old]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_session_token = %s\n",
		key, secret, expKey, expSecret, sessionToken))

	srv := cwAccount(key, secret, "db-main-cpu-high")
	srv.AddIdentity(cwtest.Identity{AccessKeyID: expKey, SecretAccessKey: expSecret, SessionToken: sessionToken,
		Account: awsAccount, ARN: "arn:aws:sts::" + awsAccount + ":assumed-role/noc/old", Expired: true})
	hs := httptest.NewServer(srv)
	defer hs.Close()

	cfg := writeConfig(t, fmt.Sprintf(`
sources:
  - {name: aws-noc, type: cloudwatch, region: eu-west-1, profile: noc, endpoint: %[1]s, sts_endpoint: %[1]s}
  - {name: aws-old, type: cloudwatch, region: eu-west-1, profile: old, endpoint: %[1]s, sts_endpoint: %[1]s}
  - {name: aws-env, type: cloudwatch, region: eu-west-1, endpoint: %[1]s, sts_endpoint: %[1]s}
  - {name: aws-typo, type: cloudwatch, region: eu-west-1, profile: nope, endpoint: %[1]s, sts_endpoint: %[1]s}
`, hs.URL))
	logFile := filepath.Join(t.TempDir(), "log")
	code, out, errOut := bintest.Run(t, "check", "--config", cfg, "--log-file", logFile)
	assert.Equal(t, 1, code, out+errOut)
	assert.Regexp(t, `(?m)^ok +aws-noc +cloudwatch +eu-west-1 profile noc account 123456789012 as arn:aws:iam::123456789012:user/noc +1 alert in`, out)
	assert.Regexp(t, `(?m)^FAIL +aws-old +cloudwatch +eu-west-1 profile old +identity: AWS credentials expired \(profile old\)`, out)
	assert.Regexp(t, `(?m)^FAIL +aws-env +cloudwatch +eu-west-1 +identity: AWS rejected the credentials of profile default \(InvalidClientTokenId\)`, out)
	assert.Regexp(t, `(?m)^FAIL +aws-typo +cloudwatch +eu-west-1 profile nope +identity: AWS profile "nope" not found`, out)
	assert.Contains(t, out, "3 of 4 sources failed")
	for _, s := range []string{secret, envSecret, expSecret, sessionToken} {
		assert.NotContains(t, out+errOut, s)
	}
	if logs, err := os.ReadFile(logFile); err == nil {
		for _, s := range []string{secret, envSecret, expSecret, sessionToken} {
			assert.NotContains(t, string(logs), s)
		}
	}
}
