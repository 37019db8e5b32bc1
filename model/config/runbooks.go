package config

import (
	"path/filepath"
)

// Runbooks says where the team's markdown runbooks live, so sitroom can
// open them in the terminal; its keys sit at the top level of the file.
type Runbooks struct {
	// RunbooksDir is a local checkout of the runbooks (absolute, or
	// relative to the config file). An alert's runbook_url or a catalog
	// runbook that names a file in it opens with `o`.
	RunbooksDir string `yaml:"runbooks_dir,omitempty"`
	// RunbooksURL is the web address the checkout is published under
	// (https://git.example/noc/runbooks/blob/main/): a runbook_url under
	// it opens the same file from RunbooksDir.
	RunbooksURL string `yaml:"runbooks_url,omitempty"`
}

// RunbookDir is runbooks_dir made absolute against the config's
// directory; "" when not set.
func (c *Config) RunbookDir() string {
	d := c.RunbooksDir
	if d == "" {
		return ""
	}
	if !filepath.IsAbs(d) && c.baseDir != "" {
		d = filepath.Join(c.baseDir, d)
	}
	if abs, err := filepath.Abs(d); err == nil {
		d = abs
	}
	return filepath.Clean(d)
}
