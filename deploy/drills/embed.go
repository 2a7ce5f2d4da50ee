// Package drills embeds the bundled target timelines of drills (deploy/drills/*.yaml), so
// a drill or a report can use them with no files on disk. The YAML files are the source.
package drills

import (
	"embed"
	"fmt"
)

//go:embed *.yaml
var files embed.FS

// Timeline returns a bundled timeline file by name, e.g. full-scale.yaml.
func Timeline(name string) ([]byte, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("bundled timeline %s: %w", name, err)
	}
	return b, nil
}
