package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/kirikae/kirikae/yamlcheck"
)

// configLimits bound a config file: a mapping of flags, some of them lists.
var configLimits = yamlcheck.Limits{Bytes: 1 << 20, Depth: 3, Expanded: 2 << 20}

// configFileError holds every problem of a config file, FILE:LINE: FIELD: MESSAGE each.
type configFileError struct {
	problems []yamlcheck.FieldError
}

func (e *configFileError) Error() string {
	lines := make([]string, len(e.problems))
	for i, p := range e.problems {
		lines[i] = p.String()
	}
	return "config file refused:\n" + strings.Join(lines, "\n")
}

// fileFlags are the flags of fs a config file may set: all but those named in skip (the
// flag naming the file itself, say) and help.
func fileFlags(fs *pflag.FlagSet, skip []string) []*pflag.Flag {
	var out []*pflag.Flag
	fs.VisitAll(func(f *pflag.Flag) {
		for _, s := range append(skip, "help") {
			if f.Name == s {
				return
			}
		}
		out = append(out, f)
	})
	return out
}

// applyConfigFile sets the flags of fs from the YAML file: a mapping whose keys are flag
// names without the dashes and whose values have the flag's type (a string, true or false,
// a duration such as 30s, an integer, or a list for a repeatable flag). A flag given on the
// command line keeps its value: flags win over the file.
//
// The file is checked whole before any flag is set: an unknown key, a value of the wrong
// type, a key given twice or a YAML error refuses it, each problem reported as FILE:LINE:
// FLAG: MESSAGE, and fs is left as it was. It returns the names of the flags the file set.
func applyConfigFile(fs *pflag.FlagSet, file string, skip ...string) (map[string]bool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	p := &yamlcheck.Problems{File: file, Top: "config"}
	flags := map[string]*pflag.Flag{}
	var names []string
	for _, f := range fileFlags(fs, skip) {
		flags[f.Name] = f
		names = append(names, f.Name)
	}
	type setting struct {
		flag   *pflag.Flag
		values []string
		line   int
	}
	var settings []setting
	var doc yaml.Node
	if len(data) <= configLimits.Bytes && yaml.Unmarshal(data, &doc) == nil && doc.Kind == 0 {
		return map[string]bool{}, nil // no document: comments only, or nothing yet
	}
	if root := p.Load(data, configLimits, "config file"); root != nil && !yamlcheck.IsNull(root) {
		p.Fields(root, "config", names, func(key string, k, val *yaml.Node) {
			f := flags[key]
			if vals, ok := readFlagValue(p, f, val); ok {
				settings = append(settings, setting{f, vals, k.Line})
			}
		})
	}
	if p.Len() > 0 {
		return nil, &configFileError{p.List()}
	}
	set := map[string]bool{}
	for _, s := range settings {
		if s.flag.Changed {
			continue // given on the command line
		}
		for _, v := range s.values {
			if err := fs.Set(s.flag.Name, v); err != nil {
				p.Add(s.line, s.flag.Name, "%v", err)
			}
		}
		if len(s.values) == 0 {
			// An empty list empties a repeatable flag that has a default.
			if sv, ok := s.flag.Value.(pflag.SliceValue); ok {
				if err := sv.Replace(nil); err != nil {
					p.Add(s.line, s.flag.Name, "%v", err)
				}
				s.flag.Changed = true
			}
		}
		set[s.flag.Name] = true
	}
	if p.Len() > 0 {
		return nil, &configFileError{p.List()}
	}
	return set, nil
}

// readFlagValue checks val against the type of f and returns what to Set f to, once per
// element for a repeatable flag.
func readFlagValue(p *yamlcheck.Problems, f *pflag.Flag, val *yaml.Node) ([]string, bool) {
	switch f.Value.Type() {
	case "string":
		s, ok := p.Str(val, f.Name)
		return []string{s}, ok
	case "bool":
		b, ok := p.Bool(val, f.Name)
		return []string{fmt.Sprint(b)}, ok
	case "int":
		i, ok := p.Int(val, f.Name)
		return []string{fmt.Sprint(i)}, ok
	case "duration":
		d, ok := p.Duration(val, f.Name)
		return []string{d.String()}, ok
	case "stringArray", "stringSlice":
		before := p.Len()
		l, ok := p.StrList(val, f.Name)
		return l, ok && p.Len() == before
	default:
		p.Add(val.Line, f.Name, "a %s flag cannot be set from a config file", f.Value.Type())
		return nil, false
	}
}

// printConfig writes the effective value of every flag a config file may set, as a config
// file that would give the same values, each with a comment saying where it came from:
// the command line, the file, or the default.
func printConfig(w io.Writer, fs *pflag.FlagSet, fromFile map[string]bool, skip ...string) error {
	root := &yaml.Node{Kind: yaml.MappingNode}
	for _, f := range fileFlags(fs, skip) {
		source := "default"
		switch {
		case fromFile[f.Name]:
			source = "config file"
		case f.Changed:
			source = "flag"
		}
		key := &yaml.Node{Kind: yaml.ScalarNode, Value: f.Name}
		var val *yaml.Node
		switch f.Value.Type() {
		case "stringArray", "stringSlice":
			val = &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
			if sv, ok := f.Value.(pflag.SliceValue); ok {
				for _, s := range sv.GetSlice() {
					val.Content = append(val.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s})
				}
			}
		case "bool":
			val = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: f.Value.String()}
		case "int":
			val = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: f.Value.String()}
		default:
			val = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: f.Value.String()}
		}
		val.LineComment = source
		root.Content = append(root.Content, key, val)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return fmt.Errorf("print config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("print config: %w", err)
	}
	out := b.Bytes()
	if !bytes.HasSuffix(out, []byte("\n")) {
		out = append(out, '\n') // yaml.v3 leaves the last line comment unterminated
	}
	_, err := w.Write(out)
	return err
}
