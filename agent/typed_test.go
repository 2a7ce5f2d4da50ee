package agent_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/catalog"
	"github.com/kirikae/kirikae/plan"
)

type gadgetIn struct {
	Size  int               `json:"size" kirikae:"required" doc:"how big"`
	Where string            `json:"where,omitempty" doc:"where to put it"`
	Tags  map[string]string `json:"tags,omitempty"`
}

type gadgetOut struct {
	GadgetID string `json:"gadgetId"`
	Size     int    `json:"size"`
}

// TestAnActionFromItsDefinitionAlone: an action defined in a test package is known to plan
// validation and decoded for its executor by the agent, from the one definition.
func TestAnActionFromItsDefinitionAlone(t *testing.T) {
	gadget := catalog.Define(catalog.Def[gadgetIn, gadgetOut]{Name: "test.gadget", Where: catalog.OnAgent, Doc: "Make a gadget."})
	t.Cleanup(func() { catalog.Undefine("test.gadget") })

	// Plan validation knows its inputs and outputs.
	src := "apiVersion: kirikae/v1\nkind: Plan\nname: g\nrunKind: recovery\nsteps:\n" +
		"  - {id: make, region: us-west-2, action: test.gadget, with: {size: 3, where: shelf}}\n" +
		"  - {id: again, region: us-west-2, needs: [make], action: test.gadget, with: {size: \"${steps.make.outputs.size}\"}}\n"
	if _, err := plan.Parse("g.yaml", []byte(src)); err != nil {
		t.Fatalf("a plan of the new action: %v", err)
	}
	if _, err := plan.Parse("g.yaml", []byte(src[:len(src)-1]+"\n  - {id: bad, region: us-west-2, action: test.gadget, with: {colour: red}}\n")); err == nil {
		t.Fatal("a step without the required size, with an unknown input, was accepted")
	}

	// The agent decodes its inputs into gadgetIn for the executor, and refuses bad ones.
	cp := newFakeCP(t, 1)
	reg := newExecutors().registry()
	var got gadgetIn
	reg.Register(gadget.Name, action.ExecutorFunc(func(ctx context.Context, s action.Step, p action.ProgressFunc) (map[string]any, error) {
		in, err := action.Decode(s, gadget)
		if err != nil {
			return nil, err
		}
		got = in
		return gadget.Encode(gadgetOut{GadgetID: "g-1", Size: in.Size})
	}))
	start(t, testConfig(t, t.TempDir(), reg, cp))
	cp.assign(t, assignment("typed", "make", 1, 1, gadget.Name, `{"size":"3","where":"shelf","tags":{"n":1}}`))
	r := cp.waitResult(t, "typed", "make", 1)
	if !r.GetOk() || got.Size != 3 || got.Where != "shelf" || got.Tags["n"] != "1" {
		t.Fatalf("result %v, decoded %+v", r, got)
	}
	var out gadgetOut
	if err := json.Unmarshal([]byte(r.GetOutputsJson()), &out); err != nil || out.GadgetID != "g-1" || out.Size != 3 {
		t.Fatalf("outputs %s: %v", r.GetOutputsJson(), err)
	}
	cp.assign(t, assignment("typed", "bad", 1, 1, gadget.Name, `{"colour":"red"}`))
	if r := cp.waitResult(t, "typed", "bad", 1); r.GetOk() || !r.GetPermanent() || r.GetError() != "invalid input: with.size is required" {
		t.Fatalf("a step without its required input: %v", r)
	}
}
