package awssim_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/rds"
)

// BenchmarkSDKRoundTrip measures one SDK call through the simulator over loopback: the
// per-step overhead a plan pays on awssim, to set against the plan's critical path.
func BenchmarkSDKRoundTrip(b *testing.B) {
	e := newEnv(b, time.Second)
	ctx := context.Background()
	r := rds.NewFromConfig(e.cfg(west))
	c := ecs.NewFromConfig(e.cfg(west))
	b.Run("rds-awsQuery", func(b *testing.B) {
		for b.Loop() {
			if _, err := r.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String("kaigo-subsys-prod")}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ecs-awsJson", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("kaigo-subsys-dr"), Services: []string{"kaigo-subsys-dr-service"}}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
