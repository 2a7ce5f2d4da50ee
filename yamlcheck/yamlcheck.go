package yamlcheck

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// DefaultMaxProblems is the most problems a Problems keeps when its Max is zero.
const DefaultMaxProblems = 1000

// FieldError is one problem in a file, at a line, in a field named by its path from the
// top of the file (spec.regions.primary.region, steps[restore-rds].with.maxAge).
type FieldError struct {
	File  string `json:"file"`
	Line  int    `json:"line"`
	Field string `json:"field"`
	Msg   string `json:"message"`
}

func (e FieldError) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Field, e.Msg)
}

// Problems collects the problems of one file. The zero value is not ready: set File and
// Top. Its methods that read a node report what is wrong with it and return ok=false, so
// a validator goes on to find the next problem.
type Problems struct {
	// File names the file in every problem.
	File string
	// Top is the field that stands for the whole file ("plan", "system"): the field of
	// problems that belong to no one field, and the parent that Fields leaves out of the
	// paths of top-level keys.
	Top string
	// Max is the most problems kept; past it, List says it stopped. Zero means
	// DefaultMaxProblems.
	Max int

	list      []FieldError
	truncated bool
}

// Add records a problem.
func (p *Problems) Add(line int, field, format string, args ...any) {
	if len(p.list) >= p.max() {
		p.truncated = true
		return
	}
	p.list = append(p.list, FieldError{File: p.File, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (p *Problems) max() int {
	if p.Max > 0 {
		return p.Max
	}
	return DefaultMaxProblems
}

// Len is the number of problems recorded so far.
func (p *Problems) Len() int { return len(p.list) }

// List returns the problems sorted by line (stable, so problems on one line keep the order
// they were found in), without exact duplicates (which aliases can produce), and ending
// with a note when some were left out past Max.
func (p *Problems) List() []FieldError {
	out := slices.Clone(p.list)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	out = slices.Compact(out)
	if p.truncated {
		line := 1
		if len(out) > 0 {
			line = out[len(out)-1].Line
		}
		out = append(out, FieldError{File: p.File, Line: line, Field: p.Top,
			Msg: fmt.Sprintf("too many problems: stopped after %d", p.max())})
	}
	return out
}

// Limits bounds what Load accepts; see Load.
type Limits struct {
	// Bytes is the largest file.
	Bytes int
	// Depth is how deeply mappings and lists may nest, the top-level node counting 1. An
	// alias counts as the node it names, at the depth where it is used.
	Depth int
	// Expanded bounds what aliases expand to: the document, with every alias replaced by
	// the node it names, may hold at most this much, counting each node as one plus the
	// length of its text. Without aliases that count is about the file's size in bytes.
	Expanded int
}

// Load reads data as one YAML document and returns its top node, an alias there resolved.
// It records what is wrong and returns nil when the document cannot be walked safely:
// data past lim.Bytes, no document, a YAML syntax error, or a tree past lim.Depth or
// lim.Expanded or with an alias inside the node it names. A second document is recorded as
// a problem, and the first is still returned so that its problems are found too. noun
// names what a file holds in messages: "plan", "system".
func (p *Problems) Load(data []byte, lim Limits, noun string) *yaml.Node {
	if len(data) > lim.Bytes {
		p.Add(1, p.Top, "the file is %d bytes: %s may be at most %d bytes (%s)", len(data), Article(noun), lim.Bytes, sizeName(lim.Bytes))
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.Add(1, p.Top, "empty file")
			return nil
		}
		p.Add(ErrLine(err), "yaml", "%s", ErrMsg(err))
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		p.Add(extra.Line, "yaml", "more than one YAML document: a file holds one %s", noun)
	} else if !errors.Is(err, io.EOF) {
		p.Add(ErrLine(err), "yaml", "%s", ErrMsg(err))
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			p.Add(1, p.Top, "empty file")
			return nil
		}
		root = root.Content[0]
	}
	root = ResolveAlias(root)
	if root == nil || !p.checkShape(root, lim, noun) {
		return nil
	}
	return root
}

func sizeName(n int) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

var lineRe = regexp.MustCompile(`line (\d+)`)

// ErrLine is the line a yaml.v3 error names, or 1.
func ErrLine(err error) int {
	if m := lineRe.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		// yaml reports parser errors that have a context ("while parsing a flow mapping")
		// with the context's 0-based line; scanner errors are 1-based.
		if strings.Contains(err.Error(), "did not find expected") {
			n++
		}
		return n
	}
	return 1
}

// ErrMsg is a yaml.v3 error's message without its "yaml: line N:" prefix.
func ErrMsg(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if loc := lineRe.FindStringIndex(msg); loc != nil && loc[0] == 0 {
		msg = strings.TrimPrefix(msg[loc[1]:], ": ")
	}
	return msg
}

// ResolveAlias follows n's aliases to the node they name.
func ResolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// IsNull reports whether n is a null scalar (`~`, `null` or nothing).
func IsNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// KindName says what n is for a message: a mapping, a list, null, a string "x",
// an integer "3".
func KindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if IsNull(n) {
			return "null"
		}
		kind := map[string]string{"!!str": "string", "!!int": "integer", "!!float": "number", "!!bool": "boolean",
			"!!timestamp": "timestamp", "!!binary": "binary value"}[n.ShortTag()]
		if kind == "" {
			kind = "value"
		}
		return Article(kind) + " " + strconv.Quote(n.Value)
	}
	return "an unexpected node"
}

// Article puts "a" or "an" before word.
func Article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an " + word
	}
	return "a " + word
}

// JoinField is the path of key inside parent; the keys of Top are paths of their own. An
// empty key is written "".
func (p *Problems) JoinField(parent, key string) string {
	if key == "" {
		key = `""`
	}
	if parent == "" || parent == p.Top {
		return key
	}
	return parent + "." + key
}

// Fields walks the mapping n, calling fn for each key with the key's text, its node and
// its value's node (aliases resolved). It records a duplicate key, a key that is not a
// string, and, when allowed is not nil, a key not in allowed (suggesting the one it is
// closest to); fn is not called for those. It returns false, having recorded it, when n is
// not a mapping.
func (p *Problems) Fields(n *yaml.Node, field string, allowed []string, fn func(key string, k, val *yaml.Node)) bool {
	if n.Kind != yaml.MappingNode {
		p.Add(n.Line, field, "want a mapping, got %s", KindName(n))
		return false
	}
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := ResolveAlias(n.Content[i]), ResolveAlias(n.Content[i+1])
		if k == nil || val == nil {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			p.Add(k.Line, field, "keys must be strings")
			continue
		}
		sub := p.JoinField(field, k.Value)
		if first, dup := seen[k.Value]; dup {
			p.Add(k.Line, sub, "duplicate key %q (first at line %d)", k.Value, first)
			continue
		}
		seen[k.Value] = k.Line
		if allowed != nil && !slices.Contains(allowed, k.Value) {
			if s := Suggest(k.Value, allowed); s != "" {
				p.Add(k.Line, sub, "unknown field %q: did you mean %q? (want one of: %s)", k.Value, s, strings.Join(allowed, ", "))
			} else {
				p.Add(k.Line, sub, "unknown field %q (want one of: %s)", k.Value, strings.Join(allowed, ", "))
			}
			continue
		}
		fn(k.Value, k, val)
	}
	return true
}

// Str reads a string. Any scalar but null is one: `7.0` is the string "7.0".
func (p *Problems) Str(n *yaml.Node, field string) (string, bool) {
	if n.Kind != yaml.ScalarNode || IsNull(n) {
		p.Add(n.Line, field, "want a string, got %s", KindName(n))
		return "", false
	}
	return n.Value, true
}

// Int reads an integer written as one (not "2" in quotes).
func (p *Problems) Int(n *yaml.Node, field string) (int, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		p.Add(n.Line, field, "want an integer, got %s", KindName(n))
		return 0, false
	}
	i, err := strconv.Atoi(n.Value)
	if err != nil {
		p.Add(n.Line, field, "want an integer, got %q", n.Value)
		return 0, false
	}
	return i, true
}

// Bool reads true or false.
func (p *Problems) Bool(n *yaml.Node, field string) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		p.Add(n.Line, field, "want true or false, got %s", KindName(n))
		return false, false
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		p.Add(n.Line, field, "want true or false, got %q", n.Value)
		return false, false
	}
	return b, true
}

// Duration reads a Go duration that is not negative: 90s, 45m, 1h30m.
func (p *Problems) Duration(n *yaml.Node, field string) (time.Duration, bool) {
	s, ok := p.Str(n, field)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		p.Add(n.Line, field, "bad duration %q: want e.g. 90s, 45m, 1h30m", s)
		return 0, false
	}
	return d, true
}

// StrList reads a list of strings; it returns false only when n is not a list.
func (p *Problems) StrList(n *yaml.Node, field string) ([]string, bool) {
	if n.Kind != yaml.SequenceNode {
		p.Add(n.Line, field, "want a list, got %s", KindName(n))
		return nil, false
	}
	var out []string
	for i, e := range n.Content {
		e = ResolveAlias(e)
		if s, ok := p.Str(e, fmt.Sprintf("%s[%d]", field, i)); ok {
			out = append(out, s)
		}
	}
	return out, true
}
