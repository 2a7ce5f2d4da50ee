// Package deploy embeds the bundled plans and system files, so `kirikae demo`, drills and
// the simulator run them with no files on disk. The files in plans/ and systems/ are the
// source: edit them, not copies.
package deploy

import (
	"embed"
	"fmt"
	"io/fs"
)

//go:embed plans/*.yaml
var plans embed.FS

//go:embed systems/*.yaml
var systems embed.FS

// Plan returns a bundled plan file by name, e.g. kaigo-failover.yaml.
func Plan(name string) ([]byte, error) {
	b, err := plans.ReadFile("plans/" + name)
	if err != nil {
		return nil, fmt.Errorf("bundled plan %s: %w", name, err)
	}
	return b, nil
}

// System returns a bundled system file by name, e.g. kaigo.yaml.
func System(name string) ([]byte, error) {
	b, err := systems.ReadFile("systems/" + name)
	if err != nil {
		return nil, fmt.Errorf("bundled system file %s: %w", name, err)
	}
	return b, nil
}

// Systems lists the names of the bundled system files, sorted.
func Systems() []string {
	entries, _ := fs.ReadDir(systems, "systems") // the directory is embedded, so it is there
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
