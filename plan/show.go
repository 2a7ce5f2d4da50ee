package plan

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Summary is what `kirikae plan show` prints: the plan's phases and steps, its critical path
// and how that compares with running the steps one after another. Its JSON follows the
// CLI's convention (README, "JSON output"): snake_case keys, every field present.
type Summary struct {
	Name                 string         `json:"name"`
	Description          string         `json:"description"`
	RunKind              RunKind        `json:"run_kind"`
	File                 string         `json:"file"`
	Params               []ParamSummary `json:"params"`
	Phases               []PhaseSummary `json:"phases"`
	Steps                []StepSummary  `json:"steps"`
	CriticalPath         []string       `json:"critical_path"`
	CriticalPathTime     string         `json:"critical_path_time"`
	CriticalPathSeconds  int64          `json:"critical_path_seconds"`
	SequentialSum        string         `json:"sequential_sum"`
	SequentialSumSeconds int64          `json:"sequential_sum_seconds"`
}

// ParamSummary is one parameter and the value steps will see.
type ParamSummary struct {
	Name        string `json:"name"`
	Value       string `json:"value"`
	Overridden  bool   `json:"overridden"`
	Required    bool   `json:"required"` // no default and not set
	Description string `json:"description"`
	// Secret params show Value masked once set: the default is in the plan file anyway.
	Secret bool `json:"secret"`
}

// Masked is what every read path shows in place of a secret param's value.
const Masked = "(secret)"

// PhaseSummary is one phase with its budget and the expected time of its steps.
type PhaseSummary struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Steps int    `json:"steps"`
	// Expect is the runbook's budget for the phase; Span is the longest chain of the phase's
	// own steps (needs inside the phase only), Sum the sum of their expect.
	Expect string `json:"expect"`
	Span   string `json:"span"`
	Sum    string `json:"sum"`
}

// StepSummary is one step as plan show lists it.
type StepSummary struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Phase    string   `json:"phase"`
	Region   string   `json:"region"`
	Action   string   `json:"action"`
	Owner    string   `json:"owner"`
	Needs    []string `json:"needs"`
	Expect   string   `json:"expect"`
	Priority int      `json:"priority"`
	Drill    string   `json:"drill"`
	Critical bool     `json:"critical"`
}

// Summarize builds the Summary of a plan, steps in topological order.
func (p *Plan) Summarize() Summary {
	path, total := p.CriticalPath()
	onPath := map[string]bool{}
	for _, id := range path {
		onPath[id] = true
	}
	seq := p.SequentialSum()
	s := Summary{
		Name: p.Name, Description: p.Description, RunKind: p.RunKind, File: p.File,
		CriticalPath: path, CriticalPathTime: FormatDuration(total), CriticalPathSeconds: int64(total / time.Second),
		SequentialSum: FormatDuration(seq), SequentialSumSeconds: int64(seq / time.Second),
		Params: []ParamSummary{}, Phases: []PhaseSummary{}, Steps: []StepSummary{},
	}
	for _, pr := range p.Params {
		v, ok := pr.Effective()
		if pr.Secret && pr.Set {
			v = Masked
		}
		s.Params = append(s.Params, ParamSummary{Name: pr.Name, Value: v, Overridden: pr.Set, Required: !ok, Description: pr.Description, Secret: pr.Secret})
	}
	for _, ph := range p.Phases {
		span, sum, n := p.phaseSpan(ph.ID)
		ps := PhaseSummary{ID: ph.ID, Name: ph.Name, Steps: n, Span: FormatDuration(span), Sum: FormatDuration(sum)}
		if ph.Expect > 0 {
			ps.Expect = FormatDuration(ph.Expect)
		}
		s.Phases = append(s.Phases, ps)
	}
	for _, id := range p.order {
		st := p.byID[id]
		ss := StepSummary{ID: st.ID, Name: st.Name, Phase: st.Phase, Region: st.Region, Action: st.Action,
			Owner: st.Owner, Needs: append([]string{}, st.Needs...), Priority: st.Priority, Drill: st.Drill, Critical: onPath[id]}
		if st.Expect > 0 {
			ss.Expect = FormatDuration(st.Expect)
		}
		s.Steps = append(s.Steps, ss)
	}
	return s
}

// phaseSpan is the longest chain among the phase's steps, counting only needs inside it.
func (p *Plan) phaseSpan(phase string) (span, sum time.Duration, n int) {
	dist := map[string]time.Duration{}
	for _, id := range p.order {
		s := p.byID[id]
		if s.Phase != phase {
			continue
		}
		n++
		sum += s.Expect
		var best time.Duration
		for _, need := range s.Needs {
			if d, ok := dist[need]; ok && d > best {
				best = d
			}
		}
		dist[id] = best + s.Expect
		if dist[id] > span {
			span = dist[id]
		}
	}
	return span, sum, n
}

// FormatDuration prints a duration the way plans write them: 1h30m, 45m, 90s, 0.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// WriteSummary prints a Summary as text tables.
func WriteSummary(w io.Writer, s Summary) error {
	ew := &errWriter{w: w}
	ew.printf("Plan:        %s (%s)\n", s.Name, s.RunKind)
	if s.File != "" {
		ew.printf("File:        %s\n", s.File)
	}
	if s.Description != "" {
		ew.printf("Description: %s\n", s.Description)
	}
	var set, req, secret []string
	for _, pr := range s.Params {
		if pr.Secret {
			secret = append(secret, pr.Name)
		}
		if pr.Overridden {
			set = append(set, pr.Name+"="+pr.Value)
		}
		if pr.Required {
			req = append(req, pr.Name)
		}
	}
	ew.printf("Params:      %d", len(s.Params))
	if len(set) > 0 {
		ew.printf("; set: %s", strings.Join(set, ", "))
	}
	if len(req) > 0 {
		ew.printf("; required (no default): %s", strings.Join(req, ", "))
	}
	if len(secret) > 0 {
		ew.printf("; secret (shown as %s): %s", Masked, strings.Join(secret, ", "))
	}
	ew.printf("\n")

	if len(s.Phases) > 0 {
		ew.printf("\nPHASES\n")
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTEPS\tBUDGET\tSPAN\tSUM\tNAME")
		for _, ph := range s.Phases {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", ph.ID, ph.Steps, dash(ph.Expect), ph.Span, ph.Sum, ph.Name)
		}
		_ = tw.Flush()
	}

	ew.printf("\nSTEPS (* on the critical path)\n")
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\tID\tPHASE\tREGION\tACTION\tOWNER\tNEEDS\tEXPECT\tPRI\tDRILL")
	for _, st := range s.Steps {
		mark := ""
		if st.Critical {
			mark = "*"
		}
		pri := "-"
		if st.Priority > 0 {
			pri = fmt.Sprint(st.Priority)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", mark, st.ID, dash(st.Phase), st.Region, st.Action,
			dash(st.Owner), dash(strings.Join(st.Needs, ",")), dash(st.Expect), pri, dash(st.Drill))
	}
	_ = tw.Flush()

	ew.printf("\nCRITICAL PATH\n  %s\n", strings.Join(s.CriticalPath, " -> "))
	ratio := ""
	if s.SequentialSumSeconds > 0 {
		ratio = fmt.Sprintf(" (%d%%)", s.CriticalPathSeconds*100/s.SequentialSumSeconds)
	}
	ew.printf("\nCritical path %s against a sequential sum of %s%s.\n", s.CriticalPathTime, s.SequentialSum, ratio)
	return ew.err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	if err != nil {
		e.err = fmt.Errorf("write: %w", err)
	}
	return n, e.err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }
