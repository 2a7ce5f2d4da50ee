package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kirikae/kirikae/catalog"
	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/human"
)

// Improvement texts, one per kind of cause. Each problem names the one it calls for.
const (
	improveRPO = "Copy RDS snapshots to the DR region (us-west-2) at least hourly (e.g. an AWS Backup plan with an hourly rule and a cross-region copy action), or keep a cross-region read replica / AWS Backup continuous backups, so the newest restorable data is within the RPO."
	improveEFS = "Copy EFS recovery points to the DR vault more often than daily (AWS Backup rule with a cross-region copy), or accept and document the longer EFS recovery point."
)

func (r *Report) problem(p Problem) {
	r.Problems = append(r.Problems, p)
	if p.Improvement != "" && !slices.Contains(r.Improvements, p.Improvement) {
		r.Improvements = append(r.Improvements, p.Improvement)
	}
}

// findProblems lists, in a stable order: the runs that did not succeed, then per step
// failures, retries, guard-rail refusals, slowness and manual waits, then readiness,
// RTO and RPO, and the timeline rows that fell behind.
func (r *Report) findProblems() {
	for _, rs := range r.Runs {
		if rs.Status != "succeeded" {
			msg := fmt.Sprintf("run %s (%s, plan %s) ended %s", rs.ID, rs.Kind, rs.Plan, rs.Status)
			if rs.Error != "" {
				msg += ": " + rs.Error
			}
			r.problem(Problem{Kind: ProblemRunFailed, Run: rs.ID, Summary: msg,
				Improvement: fmt.Sprintf("Find why run %s stopped, fix the plan or the environment, and rehearse plan %s again in a tabletop drill before the next full-scale one.", rs.ID, rs.Plan)})
		}
	}
	for _, st := range r.Steps {
		failures := 0
		var lastErr string
		for _, h := range st.History {
			if strings.Contains(h, " failed: ") {
				failures++
				_, lastErr, _ = strings.Cut(h, " failed: ")
			}
		}
		if st.Error != "" {
			lastErr = st.Error
		}
		guard := guardRail(lastErr)
		for _, h := range st.History {
			if g := guardRail(h); g != "" && guard == "" {
				guard = g
			}
		}
		switch {
		case st.Status == "failed":
			r.problem(Problem{Kind: ProblemFailed, Run: st.Run, Step: st.ID,
				Summary:     fmt.Sprintf("step %s failed after %d attempt(s): %s", st.ID, st.Attempts, lastErr),
				Improvement: fmt.Sprintf("Fix the cause of %s failing (%s) and rehearse the step on its own.", st.ID, short(lastErr))})
		case failures > 0 || st.Attempts > 1:
			r.problem(Problem{Kind: ProblemRetried, Run: st.Run, Step: st.ID,
				Summary:     fmt.Sprintf("step %s needed %d attempts (%s)", st.ID, max(st.Attempts, uint32(failures+1)), strings.Join(st.History, "; ")),
				Improvement: fmt.Sprintf("Find why %s failed before it succeeded (%s); fix the cause or give it the timeout it really needs.", st.ID, short(lastErr))})
		}
		if guard != "" {
			p := Problem{Kind: ProblemGuardRail, Run: st.Run, Step: st.ID, Summary: fmt.Sprintf("step %s hit a guard rail: %s", st.ID, guard)}
			switch {
			case strings.Contains(guard, "maxAge"):
				p.Improvement = improveRPO
			case strings.Contains(guard, "verifiedCopy"):
				p.Improvement = "Check that the cross-region snapshot copy is available in the primary region before approving the deletion of production."
			default:
				p.Improvement = fmt.Sprintf("Review the guard rail %s refused on and settle the decision in the runbook before the next drill.", st.ID)
			}
			r.problem(p)
		}
		if st.Human {
			if r.Predicted() {
				continue // a tabletop's participants are simulated: their waits are assumed, not measured
			}
			limit := st.Expect
			if limit == 0 {
				limit = manualWaitLimit
			}
			if st.Ended && st.Waited > limit {
				what := "approval"
				if st.Action == catalog.Checklist.Name {
					what = "checklist"
				}
				r.problem(Problem{Kind: ProblemManualWait, Run: st.Run, Step: st.ID,
					Summary:     fmt.Sprintf("%s step %s waited %s for people (expect %s)", what, st.ID, human.Duration(st.Waited), human.Duration(st.Expect)),
					Improvement: fmt.Sprintf("Shorten the wait on %s: name on-call people for each role in advance, page them when the step starts, and prepare the evidence for the checklist beforehand.", st.ID)})
			}
			continue
		}
		if st.Ended && st.Status == "succeeded" && st.Expect > 0 && float64(st.Actual) > SlowFactor*float64(st.Expect) {
			r.problem(Problem{Kind: ProblemSlow, Run: st.Run, Step: st.ID,
				Summary:     fmt.Sprintf("step %s took %s, %.1fx its expect of %s", st.ID, human.Duration(st.Actual), float64(st.Actual)/float64(st.Expect), human.Duration(st.Expect)),
				Improvement: slowAdvice(st)})
		}
	}
	seen := map[string]bool{}
	for _, rr := range r.Readiness {
		for _, c := range rr.Fails {
			key := rr.Region + "/" + c.GetName()
			if seen[key] {
				continue
			}
			seen[key] = true
			when := rr.When
			for _, other := range r.Readiness {
				if other.When != rr.When && other.Region == rr.Region && slices.ContainsFunc(other.Fails, func(o *kirikaev1.ReadinessCheck) bool { return o.GetName() == c.GetName() }) {
					when = "start and end"
				}
			}
			p := Problem{Kind: ProblemReadiness, Summary: fmt.Sprintf("readiness FAIL in %s at %s: %s: %s", rr.Region, when, c.GetName(), c.GetDetail())}
			switch c.GetName() {
			case "rds.snapshot-copy-age":
				p.Improvement = improveRPO
			case "backup.efs-copy-age":
				p.Improvement = improveEFS
			default:
				p.Improvement = fmt.Sprintf("Fix %s in %s (%s) and check it with `kirikae readiness` before the next drill.", c.GetName(), rr.Region, short(c.GetDetail()))
			}
			r.problem(p)
		}
	}
	predicted := ""
	if r.Predicted() {
		predicted = "predicted "
	}
	if r.RTO.Known && !r.RTO.Met {
		r.problem(Problem{Kind: ProblemRTO, Summary: fmt.Sprintf("%sRTO missed: %s against the objective of %s", predicted, human.Duration(r.RTO.Achieved), human.Duration(r.RTO.Objective)),
			Improvement: "Shorten the critical path: run independent build steps in parallel, pre-provision what takes longest (ElastiCache, ECS capacity), and replace the snapshot restore by a promoted read replica."})
	}
	if r.RPO.Known && !r.RPO.Met {
		r.problem(Problem{Kind: ProblemRPO, Summary: fmt.Sprintf("%sdata-loss window %s exceeds the RPO of %s", predicted, human.Duration(r.RPO.Window), human.Duration(r.RPO.Objective)),
			Improvement: improveRPO})
	}
	if r.Timeline != nil {
		for _, row := range r.Timeline.Rows {
			if row.HasActual && row.Delta > behindLimit {
				r.problem(Problem{Kind: ProblemBehind, Summary: fmt.Sprintf("%s %s (%s) came %s late", row.Clock, row.Action, row.Owner, human.Duration(row.Delta)),
					Improvement: "Re-plan the target timeline with the measured durations, or remove the causes of delay listed above."})
			}
		}
	}
}

// guardRail returns the refusal in an error or history line, if it is one.
func guardRail(s string) string {
	l := strings.ToLower(s)
	if strings.Contains(l, "guard rail") || strings.Contains(s, "maxAge") || strings.Contains(s, "verifiedCopy") || strings.Contains(l, "refus") {
		if _, after, ok := strings.Cut(s, "failed: "); ok && strings.HasPrefix(s, "attempt ") {
			s = after
		}
		return strings.TrimPrefix(s, "guard rail: ")
	}
	return ""
}

func slowAdvice(st StepTiming) string {
	base := fmt.Sprintf("Re-estimate the expect of %s (took %s against %s)", st.ID, human.Duration(st.Actual), human.Duration(st.Expect))
	switch st.Action {
	case catalog.RestoreSnapshot.Name:
		return base + ", or avoid the restore: promote a cross-region read replica instead."
	case "aws.elasticache.createReplicationGroup":
		return base + ", or keep a small ElastiCache group in the DR region and scale it up."
	case "aws.ecs.updateService", "aws.elbv2.waitHealthy":
		return base + ", or keep the DR images pulled and tasks warm (a desired count above zero)."
	case "aws.backup.restoreLatest":
		return base + ", or keep a replicated EFS file system in the DR region."
	}
	return base + ", and find what made it slow."
}

func short(s string) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > 120 {
		return string(r[:117]) + "..."
	}
	if s == "" {
		return "no error recorded"
	}
	return s
}
