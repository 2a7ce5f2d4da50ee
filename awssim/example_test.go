package awssim_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/kirikae/kirikae/awssim"
)

// Run the simulator in-process and point a real SDK client at it, signing with the key pair
// the simulator issued; the region in the client's config picks the simulated region.
func Example() {
	sim, err := awssim.New(awssim.Options{Fixture: "kaigo", TimeScale: 0.001})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	defer sim.Close()

	key := sim.Credentials()[0]
	cfg := aws.Config{
		Region:       "us-west-2",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(key.AccessKeyID, key.SecretAccessKey, ""),
	}
	out, err := ecs.NewFromConfig(cfg).DescribeServices(context.Background(), &ecs.DescribeServicesInput{
		Cluster: aws.String(awssim.KaigoDRCluster), Services: []string{awssim.KaigoDRService}})
	if err != nil {
		panic(err)
	}
	s := out.Services[0]
	fmt.Println(aws.ToString(s.ServiceName), aws.ToString(s.Status), s.DesiredCount, s.RunningCount)
	// Output: kaigo-subsys-dr-service ACTIVE 0 0
}
