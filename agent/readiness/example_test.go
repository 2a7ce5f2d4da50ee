package readiness_test

import (
	"context"
	"fmt"

	"github.com/kirikae/kirikae/agent"
	"github.com/kirikae/kirikae/agent/readiness"
)

// ExampleNew wires the checks into an agent: the region's role follows from the region
// (us-east-1 is primary, any other is DR), and a bad config stops the agent at start-up.
func ExampleNew() {
	ctx := context.Background()
	cfg := agent.Config{Region: "us-west-2", AWSEndpoint: "http://127.0.0.1:4566" /* ... */}
	chk, err := readiness.New(ctx, readiness.Config{Region: cfg.Region, Endpoint: cfg.AWSEndpoint})
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg.Readiness = chk.Run
	fmt.Println(chk.Config().Role, chk.Names()[0])
	// Output: dr ec2.dr-network
}

// ExampleChecks is the one-liner: a bad config becomes a failed readiness.config check.
func ExampleChecks() {
	cfg := agent.Config{Region: "us-east-1"}
	cfg.Readiness = readiness.Checks(readiness.Config{Region: cfg.Region, Endpoint: cfg.AWSEndpoint})
	_ = cfg
}
