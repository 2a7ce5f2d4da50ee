// Package deploy embeds the bundled plans, so `kirikae demo` and drills run them with no
// files on disk. The files in plans/ are the source: edit them, not copies.
package deploy

import (
	"embed"
	"fmt"
)

//go:embed plans/*.yaml
var plans embed.FS

// Plan returns a bundled plan file by name, e.g. kaigo-failover.yaml.
func Plan(name string) ([]byte, error) {
	b, err := plans.ReadFile("plans/" + name)
	if err != nil {
		return nil, fmt.Errorf("bundled plan %s: %w", name, err)
	}
	return b, nil
}
