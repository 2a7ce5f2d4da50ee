package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"google.golang.org/grpc"

	"github.com/kirikae/kirikae/controlplane"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/plan"
	"github.com/kirikae/kirikae/report"
)

func init() { register(newReportCommand) }

type reportFlags struct {
	format    string
	out       string
	timeline  string
	timeScale float64
	rto, rpo  time.Duration
	tz        string
}

func (f *reportFlags) Bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.format, "format", "md", "md (Markdown) or html (one self-contained page with an SVG timeline chart)")
	fs.StringVarP(&f.out, "out", "o", "", "write the report to FILE instead of standard output")
	fs.StringVar(&f.timeline, "timeline", "", "target timeline to set against the actual one, e.g. deploy/drills/full-scale.yaml")
	fs.Float64Var(&f.timeScale, "time-scale", 1, "the time scale the runs ran at (a drill against awssim at 0.002 ran 500x fast); durations are reported in plan time, except people's waits on approvals and checklists, which are real time")
	fs.DurationVar(&f.rto, "rto", 0, "RTO objective (default: the run's RTO param, else 4h)")
	fs.DurationVar(&f.rpo, "rpo", 0, "RPO objective (default: the run's RPO param, else 1h)")
	fs.StringVar(&f.tz, "tz", "", "time zone to print times in, e.g. Asia/Tokyo (default: the timeline's, else UTC)")
}

func newReportCommand() *cobra.Command {
	var cf clientFlags
	var f reportFlags
	cmd := &cobra.Command{
		Use:   "report RUN",
		Short: "Write the report of a drill or a failover: DR訓練レポート or 障害報告書 (Markdown or HTML)",
		Long: `Write the after-action report of a run: for a drill the drill report (DR訓練レポート), for a real
failover the incident report (障害報告書). A full-scale drill's failover and cutback are one
report: give either run, and its sibling runs (linked by parent_run_id) are included.

The report holds the date and time, the participants (operators and approvers, from the
audit log), the scenario and plan, the target timeline (--timeline) against the actual one
per phase and per step, the RTO achieved against the objective and the data-loss window
against the RPO, the problems found (failed or retried steps, steps slower than 1.5x their
expect, guard-rail refusals, readiness FAILs, long manual waits), improvement proposals
drawn from them, and the next drill of each kind (tabletop quarterly, partial every six
months, full-scale yearly).

Readiness is the agents' latest recorded reports at the time of the command.

-o/--out names the output FILE here: unlike the other verbs, report has no table or json
output; choose Markdown or HTML with --format.`,
		Example: `  kirikae report run-20251201-0900 --timeline deploy/drills/full-scale.yaml
  kirikae report run-20251201-0900 --format html -o drill-2025-12-01.html --timeline deploy/drills/full-scale.yaml
  kirikae report RUN --time-scale 0.002     # a drill run against awssim at 1/500 of real time`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReport(cmd.Context(), &cf, &f, args[0], cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	// The shared client flags, except -o/--output (table|json), which means nothing here:
	// -o names the output file, as for most report tools.
	shared := pflag.NewFlagSet("client", pflag.ContinueOnError)
	cf.Bind(shared)
	shared.VisitAll(func(fl *pflag.Flag) {
		if fl.Name != "output" {
			cmd.Flags().AddFlag(fl)
		}
	})
	f.Bind(cmd.Flags())
	return cmd
}

func runReport(ctx context.Context, cf *clientFlags, f *reportFlags, runID string, stdout, stderr io.Writer) error {
	if f.format != "md" && f.format != "html" {
		return fmt.Errorf("--format %q: want md or html", f.format)
	}
	if f.timeScale <= 0 {
		return fmt.Errorf("--time-scale %g: want a positive factor", f.timeScale)
	}
	var loc *time.Location
	if f.tz != "" {
		var err error
		if loc, err = time.LoadLocation(f.tz); err != nil {
			return fmt.Errorf("--tz: %w", err)
		}
	}
	var tl *report.Timeline
	if f.timeline != "" {
		src, err := os.ReadFile(f.timeline)
		if err != nil {
			return fmt.Errorf("--timeline: %w", err)
		}
		if tl, err = report.ParseTimeline(f.timeline, src); err != nil {
			return err
		}
	}
	in, err := fetchReportInput(ctx, cf, runID, stderr)
	if err != nil {
		return err
	}
	if tl != nil {
		var plans []*plan.Plan
		for _, r := range in.Runs {
			p, err := plan.Parse(r.GetPlanName(), r.GetPlanSource())
			if err != nil {
				return fmt.Errorf("plan of run %s: %w", r.GetId(), err)
			}
			plans = append(plans, p)
		}
		if err := tl.ValidateAgainst(plans...); err != nil {
			return err
		}
	}
	in.Timeline, in.TimeScale, in.RTO, in.RPO, in.Location = tl, f.timeScale, f.rto, f.rpo, loc
	rep, err := report.Build(*in)
	if err != nil {
		return err
	}
	buf, err := renderReport(rep, f.format)
	if err != nil {
		return err
	}
	if f.out == "" {
		_, err = stdout.Write(buf.Bytes())
		return err
	}
	if err := os.WriteFile(f.out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	fmt.Fprintf(stderr, "report of %d run(s) written to %s\n", len(in.Runs), f.out)
	return nil
}

// fetchReportInput reads the run and its siblings, the audit log and the readiness from
// the control plane. A readiness call that fails leaves the readiness out, with a warning.
func fetchReportInput(ctx context.Context, cf *clientFlags, runID string, stderr io.Writer) (*report.Input, error) {
	in := &report.Input{LastDrills: map[report.DrillKind]time.Time{}}
	err := cf.call(ctx, func(ctx context.Context, conn *grpc.ClientConn) error {
		*in = report.Input{LastDrills: map[report.DrillKind]time.Time{}}
		runs := kirikaev1.NewRunServiceClient(conn)
		got, err := runs.GetRun(ctx, &kirikaev1.GetRunRequest{RunId: runID})
		if err != nil {
			return err
		}
		root := got.GetRun().GetId()
		if p := got.GetRun().GetParentRunId(); p != "" {
			root = p
		}
		list, err := runs.ListRuns(ctx, &kirikaev1.ListRunsRequest{})
		if err != nil {
			return err
		}
		ids := []string{}
		for _, r := range list.GetRuns() {
			if r.GetId() == root || r.GetParentRunId() == root || r.GetId() == runID {
				ids = append(ids, r.GetId())
			}
		}
		if len(ids) == 0 {
			ids = []string{runID}
		}
		for _, id := range ids {
			r := got.GetRun()
			if id != r.GetId() {
				resp, err := runs.GetRun(ctx, &kirikaev1.GetRunRequest{RunId: id})
				if err != nil {
					return err
				}
				r = resp.GetRun()
			}
			in.Runs = append(in.Runs, r)
		}
		sort.SliceStable(in.Runs, func(i, j int) bool { return in.Runs[i].GetCreatedUnixNano() < in.Runs[j].GetCreatedUnixNano() })
		// The last earlier drill of each kind sets the next date of that kind.
		in.LastDrills = report.LastDrills(list.GetRuns(), in.Runs[0].GetCreatedUnixNano())
		audit, err := kirikaev1.NewAuditServiceClient(conn).ListAudit(ctx, &kirikaev1.ListAuditRequest{})
		if err != nil {
			return err
		}
		if seq, err := controlplane.VerifyAuditChain(audit.GetEntries()); err != nil {
			return &exitError{code: exitAuditBroken, err: fmt.Errorf("audit chain broken at entry %d: %w", seq, err)}
		}
		in.Audit = audit.GetEntries()
		ready, err := kirikaev1.NewAgentAdminServiceClient(conn).GetReadiness(ctx, &kirikaev1.GetReadinessRequest{})
		if err != nil {
			fmt.Fprintf(stderr, "warning: readiness left out of the report: %v\n", describe("readiness", err))
			return nil
		}
		for _, reg := range ready.GetRegions() {
			in.ReadinessEnd = append(in.ReadinessEnd, reg.GetReports()...)
		}
		return nil
	})
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return nil, ee
		}
		return nil, fmt.Errorf("fetch run %s: %w", runID, err)
	}
	return in, nil
}

// renderReport renders a report as HTML (format "html") or Markdown.
func renderReport(rep *report.Report, format string) (*bytes.Buffer, error) {
	var buf bytes.Buffer
	var err error
	if format == "html" {
		err = rep.HTML(&buf)
	} else {
		err = rep.Markdown(&buf)
	}
	if err != nil {
		return nil, fmt.Errorf("render report: %w", err)
	}
	return &buf, nil
}
