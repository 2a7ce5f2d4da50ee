package report

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

	"github.com/kirikae/kirikae/plan"
)

// Errors callers test for with errors.Is.
var (
	// ErrInvalidTimeline is wrapped by every *TimelineError.
	ErrInvalidTimeline = errors.New("invalid timeline")
	// ErrNoRuns is returned by Build without a run to report on.
	ErrNoRuns = errors.New("no runs to report on")
)

// Edges a timeline row may pin to: when the matched phase, step or run starts, or ends.
const (
	AtStart = "start"
	AtEnd   = "end"
)

// Timeline is a target timeline, like the seed's full-scale drill table: one row per
// action, with the time it should happen, who does it, and what in the plan marks it.
type Timeline struct {
	Name string
	// Date is midnight of the drill day in Location.
	Date     time.Time
	Location *time.Location
	Rows     []*Row
	// File is the name the timeline was parsed under, for messages.
	File string
}

// Row is one line of the target timeline.
type Row struct {
	// Time is the target, on Timeline.Date in Timeline.Location.
	Time   time.Time
	Clock  string // "09:30" as written
	Action string
	Owner  string
	Match  Match
	Line   int

	matchLine int
}

// Match says which event of a run a row stands for: the start (or end) of a phase, of a
// step, or of the whole run of a plan. Plan may be empty when the step or phase id is
// unique among the plans reported on.
type Match struct {
	Plan  string `yaml:"plan"`
	Phase string `yaml:"phase"`
	Step  string `yaml:"step"`
	// At is AtStart (the default) or AtEnd.
	At string `yaml:"at"`
}

// IsZero reports whether the row matches nothing.
func (m Match) IsZero() bool { return m.Plan == "" && m.Phase == "" && m.Step == "" }

func (m Match) String() string {
	var parts []string
	if m.Plan != "" {
		parts = append(parts, m.Plan)
	}
	switch {
	case m.Step != "":
		parts = append(parts, "step "+m.Step)
	case m.Phase != "":
		parts = append(parts, "phase "+m.Phase)
	default:
		parts = append(parts, "run")
	}
	return strings.Join(parts, " ") + " " + m.at()
}

func (m Match) at() string {
	if m.At == "" {
		return AtStart
	}
	return m.At
}

// TimelineError holds every problem found in one timeline file, sorted by line. Each is
// printed as file:line: field: message.
type TimelineError struct {
	File   string
	Errors []plan.FieldError
}

func (e *TimelineError) Error() string {
	lines := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		lines[i] = fe.String()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.Is(err, ErrInvalidTimeline) hold.
func (e *TimelineError) Unwrap() error { return ErrInvalidTimeline }

type timelineDoc struct {
	APIVersion  string   `yaml:"apiVersion"`
	Kind        string   `yaml:"kind"`
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Date        string   `yaml:"date"`
	Timezone    string   `yaml:"timezone"`
	Rows        []rowDoc `yaml:"rows"`
}

type rowDoc struct {
	Time   string `yaml:"time"`
	Action string `yaml:"action"`
	Owner  string `yaml:"owner"`
	Match  *Match `yaml:"match"`
}

type tlErrs struct {
	file string
	errs []plan.FieldError
}

func (t *tlErrs) add(line int, field, format string, args ...any) {
	t.errs = append(t.errs, plan.FieldError{File: t.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (t *tlErrs) err() error {
	if len(t.errs) == 0 {
		return nil
	}
	sort.SliceStable(t.errs, func(i, j int) bool { return t.errs[i].Line < t.errs[j].Line })
	return &TimelineError{File: t.file, Errors: t.errs}
}

var (
	clockRe        = regexp.MustCompile(`^([0-9]{2}):([0-9]{2})$`)
	yamlLineRe     = regexp.MustCompile(`line (\d+)`)
	unknownFieldRe = regexp.MustCompile(`field (\S+) not found in type report\.(\w+)`)
	allowedFields  = map[string]string{
		"timelineDoc": "apiVersion, kind, name, description, date, timezone, rows",
		"rowDoc":      "time, action, owner, match",
		"Match":       "plan, phase, step, at",
	}
)

// ParseTimeline reads a timeline file. filename is only used in messages. Unknown fields,
// a bad time such as "25:00", a row earlier than the one before it, and a match that names
// both a phase and a step are refused, each with its line.
func ParseTimeline(filename string, data []byte) (*Timeline, error) {
	e := &tlErrs{file: filename}
	var doc timelineDoc
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			e.add(1, "timeline", "empty file")
			return nil, e.err()
		}
		var root yaml.Node
		_ = yaml.Unmarshal(data, &root)
		lines := nodeLines(&root)
		for _, msg := range yamlMessages(err) {
			line := 1
			if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
				line, _ = strconv.Atoi(m[1])
			}
			msg = strings.TrimPrefix(yamlLineRe.ReplaceAllString(msg, ""), ": ")
			if m := unknownFieldRe.FindStringSubmatch(msg); m != nil {
				field := "timeline"
				switch m[2] {
				case "rowDoc":
					field = fmt.Sprintf("rows[%d]", lines.rowAt(line))
				case "Match":
					field = fmt.Sprintf("rows[%d].match", lines.rowAt(line))
				}
				e.add(line, field, "unknown field %q (want %s)", m[1], allowedFields[m[2]])
				continue
			}
			e.add(line, "yaml", "%s", msg)
		}
		return nil, e.err()
	}
	// A second pass over the node tree finds the line of each row and field.
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root)
	lines := nodeLines(&root)

	if doc.APIVersion != plan.APIVersion {
		e.add(lines.top("apiVersion"), "apiVersion", "want %q, got %q", plan.APIVersion, doc.APIVersion)
	}
	if doc.Kind != "Timeline" {
		e.add(lines.top("kind"), "kind", "want \"Timeline\", got %q", doc.Kind)
	}
	if doc.Name == "" {
		e.add(lines.top("name"), "name", "required")
	}
	tl := &Timeline{Name: doc.Name, File: filename, Location: time.UTC}
	if doc.Timezone != "" {
		loc, err := time.LoadLocation(doc.Timezone)
		if err != nil {
			e.add(lines.top("timezone"), "timezone", "unknown time zone %q: %v", doc.Timezone, err)
		} else {
			tl.Location = loc
		}
	}
	if doc.Date == "" {
		e.add(lines.top("date"), "date", "required, as YYYY-MM-DD")
	} else if d, err := time.ParseInLocation(time.DateOnly, doc.Date, tl.Location); err != nil {
		e.add(lines.top("date"), "date", "%q is not a date: want YYYY-MM-DD", doc.Date)
	} else {
		tl.Date = d
	}
	if len(doc.Rows) == 0 {
		e.add(lines.top("rows"), "rows", "at least one row is required")
	}
	var prev *Row
	for i, rd := range doc.Rows {
		field := fmt.Sprintf("rows[%d]", i)
		row := &Row{Clock: rd.Time, Action: rd.Action, Owner: rd.Owner, Line: lines.row(i, "")}
		if rd.Match != nil {
			row.Match = *rd.Match
			row.matchLine = lines.row(i, "match")
		}
		m := clockRe.FindStringSubmatch(rd.Time)
		switch {
		case rd.Time == "":
			e.add(lines.row(i, "time"), field+".time", "required, as HH:MM")
		case m == nil:
			e.add(lines.row(i, "time"), field+".time", "%q is not a time: want HH:MM, 00:00 to 23:59", rd.Time)
		default:
			h, _ := strconv.Atoi(m[1])
			mi, _ := strconv.Atoi(m[2])
			if h > 23 || mi > 59 {
				e.add(lines.row(i, "time"), field+".time", "%q is not a time: want HH:MM, 00:00 to 23:59", rd.Time)
				break
			}
			if !tl.Date.IsZero() {
				row.Time = time.Date(tl.Date.Year(), tl.Date.Month(), tl.Date.Day(), h, mi, 0, 0, tl.Location)
				if prev != nil && !prev.Time.IsZero() && row.Time.Before(prev.Time) {
					e.add(lines.row(i, "time"), field+".time", "%s is before the row above (%s, line %d): rows go in time order", rd.Time, prev.Clock, prev.Line)
				}
			}
		}
		if strings.TrimSpace(rd.Action) == "" {
			e.add(lines.row(i, "action"), field+".action", "required")
		}
		if rd.Match != nil {
			ml := lines.row(i, "match")
			switch {
			case row.Match.Phase != "" && row.Match.Step != "":
				e.add(ml, field+".match", "name a phase or a step, not both")
			case row.Match.IsZero():
				e.add(ml, field+".match", "needs a plan, a phase or a step")
			}
			if a := row.Match.At; a != "" && a != AtStart && a != AtEnd {
				e.add(ml, field+".match.at", "%q: want start or end", a)
			}
		}
		tl.Rows = append(tl.Rows, row)
		prev = row
	}
	if err := e.err(); err != nil {
		return nil, err
	}
	return tl, nil
}

// ForPlans returns a copy of the timeline with only the rows a run of the named plans can
// match: rows that name one of them, and rows that name no plan. The rows of other plans
// (a cutback's, in a drill that runs only the failover) are left out.
func (t *Timeline) ForPlans(names ...string) *Timeline {
	c := *t
	c.Rows = nil
	for _, row := range t.Rows {
		if row.Match.Plan == "" || slices.Contains(names, row.Match.Plan) {
			c.Rows = append(c.Rows, row)
		}
	}
	return &c
}

// ValidateAgainst checks every row's match against the plans the timeline is used with
// (for a full-scale drill, the failover and the cutback plan). A plan, phase or step none
// of them has is refused with the row's line; so is a step or phase that more than one
// plan has when the row does not name the plan.
func (t *Timeline) ValidateAgainst(plans ...*plan.Plan) error {
	e := &tlErrs{file: t.File}
	var names []string
	for _, p := range plans {
		names = append(names, p.Name)
	}
	for i, row := range t.Rows {
		m := row.Match
		if m.IsZero() {
			continue
		}
		field := fmt.Sprintf("rows[%d].match", i)
		line := row.matchLine
		if line == 0 {
			line = row.Line
		}
		cands := plans
		if m.Plan != "" {
			cands = nil
			for _, p := range plans {
				if p.Name == m.Plan {
					cands = append(cands, p)
				}
			}
			if len(cands) == 0 {
				e.add(line, field+".plan", "unknown plan %q (the timeline is checked against %s)", m.Plan, strings.Join(names, ", "))
				continue
			}
		}
		var found []string
		switch {
		case m.Step != "":
			for _, p := range cands {
				if p.Step(m.Step) != nil {
					found = append(found, p.Name)
				}
			}
			if len(found) == 0 {
				e.add(line, field+".step", "%v %q in %s", plan.ErrUnknownStep, m.Step, strings.Join(planNames(cands), ", "))
			}
		case m.Phase != "":
			for _, p := range cands {
				if hasPhase(p, m.Phase) {
					found = append(found, p.Name)
				}
			}
			if len(found) == 0 {
				var ids []string
				for _, p := range cands {
					for _, ph := range p.Phases {
						ids = append(ids, ph.ID)
					}
				}
				e.add(line, field+".phase", "unknown phase %q in %s (phases: %s)", m.Phase, strings.Join(planNames(cands), ", "), strings.Join(ids, ", "))
			}
		}
		if len(found) > 1 {
			e.add(line, field, "%s is in %s: name the plan", strings.TrimSpace(strings.TrimSuffix(m.String(), m.at())), strings.Join(found, " and "))
		}
	}
	return e.err()
}

func planNames(ps []*plan.Plan) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

func hasPhase(p *plan.Plan, id string) bool {
	for _, ph := range p.Phases {
		if ph.ID == id {
			return true
		}
	}
	return slices.ContainsFunc(p.Steps, func(s *plan.Step) bool { return s.Phase == id })
}

// yamlMessages splits a decode error into its lines (KnownFields reports each unknown
// field on a line of its own).
func yamlMessages(err error) []string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return te.Errors
	}
	return []string{strings.TrimPrefix(err.Error(), "yaml: ")}
}

// lineIndex finds lines of the top-level keys and of each row's fields.
type lineIndex struct {
	keys map[string]int
	rows []map[string]int
}

func nodeLines(doc *yaml.Node) lineIndex {
	li := lineIndex{keys: map[string]int{}}
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return li
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		li.keys[k.Value] = k.Line
		if k.Value != "rows" || v.Kind != yaml.SequenceNode {
			continue
		}
		for _, item := range v.Content {
			m := map[string]int{"": item.Line}
			if item.Kind == yaml.MappingNode {
				for j := 0; j+1 < len(item.Content); j += 2 {
					m[item.Content[j].Value] = item.Content[j].Line
				}
			}
			li.rows = append(li.rows, m)
		}
	}
	return li
}

// rowAt returns the index of the row that holds line.
func (li lineIndex) rowAt(line int) int {
	i := 0
	for j, r := range li.rows {
		if r[""] <= line {
			i = j
		}
	}
	return i
}

func (li lineIndex) top(key string) int {
	if l, ok := li.keys[key]; ok {
		return l
	}
	return 1
}

func (li lineIndex) row(i int, key string) int {
	if i >= len(li.rows) {
		return li.top("rows")
	}
	if l, ok := li.rows[i][key]; ok {
		return l
	}
	return li.rows[i][""]
}
