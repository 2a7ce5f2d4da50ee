package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	deployiam "github.com/kirikae/kirikae/deploy/iam"
	"github.com/kirikae/kirikae/iampolicy"
)

// bundledIAMPlans are the plans deploy/iam/ is generated from, from here.
var bundledIAMPlans = func() []string {
	var out []string
	for _, p := range deployiam.Plans {
		out = append(out, "../"+p)
	}
	return out
}()

// TestBundledIAMPoliciesAreGenerated: deploy/iam/ holds exactly what `kirikae plan
// iam-policy --out-dir` writes for the bundled kaigo plans, as generated code is checked:
// regenerate with the command in the failure message and commit the result.
func TestBundledIAMPoliciesAreGenerated(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	f := &planIAMFlags{system: "../" + deployiam.System, outDir: dir}
	if err := runPlanIAMPolicy(&out, f, bundledIAMPlans); err != nil {
		t.Fatal(err)
	}
	written, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	committed, _ := filepath.Glob("../deploy/iam/*.json")
	if len(written) != 2 || len(committed) != len(written) {
		t.Errorf("the command wrote %v; deploy/iam holds %v", written, committed)
	}
	regen := "go run ./cmd/kirikae plan iam-policy --system " + deployiam.System + " --out-dir deploy/iam " + strings.Join(deployiam.Plans, " ")
	for _, w := range written {
		want, _ := os.ReadFile(w)
		got, err := os.ReadFile(filepath.Join("../deploy/iam", filepath.Base(w)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("deploy/iam/%s is not what the command generates (%v): run\n  %s\nand commit deploy/iam", filepath.Base(w), err, regen)
		}
		p, err := iampolicy.Parse(want)
		if err != nil || p.Version != "2012-10-17" || len(p.Statement) == 0 {
			t.Errorf("%s: not a valid policy document: %v", filepath.Base(w), err)
		}
	}
}

// TestPlanIAMPolicyPrintsOneRegion: --region prints the same document --out-dir writes for
// it; --why names what needs each statement; bad flags are refused.
func TestPlanIAMPolicyPrintsOneRegion(t *testing.T) {
	var out bytes.Buffer
	f := &planIAMFlags{system: "../deploy/systems/kaigo.yaml", region: "us-west-2"}
	if err := runPlanIAMPolicy(&out, f, bundledIAMPlans); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile("../deploy/iam/kaigo-us-west-2.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), file) {
		t.Errorf("--region us-west-2 printed something else than deploy/iam/kaigo-us-west-2.json:\n%s", out.String())
	}
	var doc map[string]any
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil || doc["Version"] != "2012-10-17" {
		t.Errorf("not a JSON policy document: %v", err)
	}
	out.Reset()
	f.why = true
	if err := runPlanIAMPolicy(&out, f, bundledIAMPlans); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"RdsRestoreDBInstanceFromDBSnapshot", "step kaigo-failover/restore-rds", "step kaigo-rds-pitr/restore-db",
		"readiness route53.record", "agent health probe"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--why lacks %q:\n%s", want, out.String())
		}
	}
	for _, bad := range []*planIAMFlags{
		{region: "us-west-2"},
		{system: "../deploy/systems/kaigo.yaml"},
		{system: "../deploy/systems/kaigo.yaml", region: "eu-west-1"},
		{system: "../deploy/systems/kaigo.yaml", region: "us-west-2", sets: []string{"NOVALUE"}},
	} {
		if err := runPlanIAMPolicy(&out, bad, bundledIAMPlans); err == nil {
			t.Errorf("flags %+v accepted", bad)
		}
	}
}
