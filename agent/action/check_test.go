package action_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/catalog"
)

func TestRegistryCheck(t *testing.T) {
	var reg action.Registry // the zero Registry is usable
	var seen action.CheckStep
	reg.RegisterCheck("aws.rds.delete", action.CheckerFunc(func(_ context.Context, s action.CheckStep) []catalog.Finding {
		seen = s
		return []catalog.Finding{{Input: "instanceId", Code: catalog.FindingMissingResource, Problem: "p", Fix: "f"},
			{Step: "other", Code: catalog.FindingCheckError, Problem: "p", Fix: "f"}}
	}))
	s := action.CheckStep{StepID: "delete-prod", Action: "aws.rds.delete", Region: "us-east-1", With: map[string]any{"instanceId": "db"}}
	got := reg.Check(context.Background(), s)
	if len(got) != 2 || got[0].Step != "delete-prod" || got[1].Step != "other" || seen.Region != "us-east-1" {
		t.Fatalf("findings %+v, checker saw %+v", got, seen)
	}
	if got := reg.Check(context.Background(), action.CheckStep{StepID: "w", Action: "wait"}); got != nil {
		t.Errorf("an action without a checker has findings: %+v", got)
	}
	if names := reg.CheckNames(); len(names) != 1 || names[0] != "aws.rds.delete" {
		t.Errorf("CheckNames = %v", names)
	}
	if _, ok := reg.Lookup("aws.rds.delete"); ok {
		t.Error("registering a checker registered an executor")
	}
}

func TestDecodeCheck(t *testing.T) {
	t.Run("unresolved", func(t *testing.T) {
		// Required inputs (instanceId, a string; desiredCount, an int) and typed ones
		// (securityGroups, a list; maxAge, a duration; allowDataLoss, a bool) wait on
		// earlier steps: they decode, and stay zero.
		s := action.CheckStep{StepID: "restore", Action: catalog.RestoreSnapshot.Name, Region: "us-west-2",
			With: map[string]any{"instanceId": "${steps.name.outputs.id}", "sourceInstance": "prod",
				"securityGroups": "${steps.net.outputs.securityGroupIds}", "maxAge": "${inputs.rpo}", "allowDataLoss": "${inputs.allow}"},
			Unresolved: []string{"instanceId", "securityGroups", "maxAge", "allowDataLoss", "multiAz"}}
		in, err := action.DecodeCheck(s, catalog.RestoreSnapshot)
		if err != nil {
			t.Fatal(err)
		}
		if in.InstanceID != "" || in.SecurityGroups != nil || in.MaxAge != 0 || in.AllowDataLoss || in.MultiAZ != nil || in.SourceInstance != "prod" {
			t.Fatalf("decoded %+v", in)
		}
		if s.Resolved("instanceId") || s.Resolved("multiAz") || !s.Resolved("sourceInstance") || s.Resolved("snapshotId") {
			t.Error("Resolved is wrong")
		}
		u := action.CheckStep{Action: catalog.UpdateService.Name, Unresolved: []string{"desiredCount", "cluster"},
			With: map[string]any{"service": "svc"}}
		if in, err := action.DecodeCheck(u, catalog.UpdateService); err != nil || in.DesiredCount != 0 || in.Cluster != "" || in.Service != "svc" {
			t.Fatalf("decoded %+v, %v", in, err)
		}
	})
	t.Run("resolved", func(t *testing.T) {
		s := action.CheckStep{Action: catalog.RestoreSnapshot.Name,
			With: map[string]any{"instanceId": "dr", "sourceInstance": "prod", "maxAge": "1h", "securityGroups": []any{"sg-1"}}}
		in, err := action.DecodeCheck(s, catalog.RestoreSnapshot)
		if err != nil || in.InstanceID != "dr" || time.Duration(in.MaxAge) != time.Hour || len(in.SecurityGroups) != 1 {
			t.Fatalf("decoded %+v, %v", in, err)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		for _, c := range []struct {
			with  map[string]any
			input string
		}{
			{map[string]any{"sourceInstance": "prod"}, "instanceId"},                             // required and not unresolved
			{map[string]any{"instanceId": "dr", "maxAge": "an hour"}, "maxAge"},                  // the wrong shape
			{map[string]any{"instanceId": "dr", "snapshotIdentifier": "s"}, ""},                  // not an input
			{map[string]any{"instanceId": "dr", "securityGroups": []any{" "}}, "securityGroups"}, // an empty item
		} {
			s := action.CheckStep{StepID: "restore", Action: catalog.RestoreSnapshot.Name, With: c.with}
			_, err := action.DecodeCheck(s, catalog.RestoreSnapshot)
			if !errors.Is(err, action.ErrInvalidInput) {
				t.Fatalf("%v: want an invalid input, got %v", c.with, err)
			}
			f := action.InvalidInputFinding(s, err)
			if f.Code != catalog.FindingInvalidInput || f.Input != c.input || f.Step != "restore" || f.Problem == "" || f.Fix == "" {
				t.Errorf("%v: finding %+v, want input %q", c.with, f, c.input)
			}
		}
	})
}
