// Command kirikae is the single binary: control-plane server, regional agent, simulated AWS,
// demo and every operator verb. Wiring lives in package cli; keep this file this short.
package main

import (
	"os"

	"github.com/kirikae/kirikae/cli"
)

func main() {
	os.Exit(cli.Main())
}
