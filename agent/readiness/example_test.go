package readiness_test

import (
	"context"
	"fmt"

	"github.com/kirikae/kirikae/agent"
	"github.com/kirikae/kirikae/agent/readiness"
	"github.com/kirikae/kirikae/deploy"
	"github.com/kirikae/kirikae/system"
)

// ExampleNew wires the checks into an agent. The checker knows only its region and how to
// reach AWS; what it checks comes from the system the control plane sends the agent, and
// the role of the region from that system (here the secondary of the bundled example).
func ExampleNew() {
	ctx := context.Background()
	cfg := agent.Config{Region: "eu-central-1", AWSEndpoint: "http://127.0.0.1:4566" /* ... */}
	chk, err := readiness.New(ctx, readiness.Config{Region: cfg.Region, Endpoint: cfg.AWSEndpoint})
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg.Readiness = chk.Run
	fmt.Println(chk.Names(nil))
	src, _ := deploy.System("example-eu.yaml")
	sys, err := system.Parse("example-eu.yaml", src)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(chk.Names(sys)[:3])
	// Output:
	// [system.stored]
	// [ec2.dr-network ec2.security-groups elbv2.load-balancer]
}

// ExampleChecks is the one-liner: a bad config becomes a failed readiness.config check.
func ExampleChecks() {
	cfg := agent.Config{Region: "eu-west-1"}
	cfg.Readiness = readiness.Checks(readiness.Config{Region: cfg.Region, Endpoint: cfg.AWSEndpoint})
	_ = cfg
}
