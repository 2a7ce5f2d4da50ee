package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"
	"google.golang.org/protobuf/proto"

	"github.com/kirikae/kirikae/jsonview"
)

// formatEnv names the environment variable that chooses -o/--output when the flag is not
// given, for shells and CI jobs that always want JSON.
const formatEnv = "KIRIKAE_FORMAT"

// outputFormats are the values of -o/--output and of KIRIKAE_FORMAT.
var outputFormats = []string{"table", "json"}

// bindOutput binds -o/--output to p, defaulting to KIRIKAE_FORMAT, else table. Every verb
// with an output format binds it here, so they all read the variable alike.
func bindOutput(fs *pflag.FlagSet, p *string) {
	def := "table"
	if env := os.Getenv(formatEnv); env != "" {
		def = env
	}
	fs.StringVarP(p, "output", "o", def, "output format: table or json (env "+formatEnv+")")
}

// checkOutput refuses a format that is not table or json, naming KIRIKAE_FORMAT when that
// is where it came from.
func checkOutput(v string) error {
	if slices.Contains(outputFormats, v) {
		return nil
	}
	want := strings.Join(outputFormats, " or ")
	if env := os.Getenv(formatEnv); env != "" && v == env {
		return &exitError{code: exitUsage, err: fmt.Errorf("%s=%q: want %s (or pass -o/--output)", formatEnv, v, want)}
	}
	return &exitError{code: exitUsage, err: fmt.Errorf("--output %q: want %s", v, want)}
}

// printJSON writes a proto message in the CLI's JSON convention (package jsonview): proto
// field names, enums as the tables show them, integers as numbers, RFC 3339 times, nested
// JSON as objects, and every field present.
func printJSON(w io.Writer, m proto.Message) error {
	return writeJSON(w, jsonview.Of(m))
}

// writeJSON writes v as indented JSON, for scripts (-o json); <, > and & stay as they are.
// A Go value printed here follows the convention of printJSON: snake_case keys and no
// omitempty.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	return nil
}

// table writes aligned columns.
func table(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func formatTime(ns int64) string {
	if ns == 0 {
		return "-"
	}
	return time.Unix(0, ns).UTC().Format(time.RFC3339)
}
