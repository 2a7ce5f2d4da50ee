package aws

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/catalog"
)

// EC2API is what VerifyNetwork calls.
type EC2API interface {
	ec2.DescribeVpcsAPIClient
	ec2.DescribeSubnetsAPIClient
	ec2.DescribeSecurityGroupsAPIClient
	ec2.DescribeRouteTablesAPIClient
}

// VerifyNetwork is aws.ec2.verifyNetwork (seed 000 step 3): the DR VPC by its Name tag,
// and its subnets, security groups and route tables. It only reads. It fails with
// ErrCheckFailed naming everything that is missing at once.
type VerifyNetwork struct {
	Client func(region string) (EC2API, error)
	Opts   Options
}

func filter(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

// Execute runs the step.
func (e *VerifyNetwork) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	in, err := action.Decode(step, catalog.VerifyNetwork)
	if err != nil {
		return nil, err
	}
	minSubnets, minRT := 2, 1
	if in.MinSubnets != nil {
		minSubnets = *in.MinSubnets
	}
	if in.MinRouteTables != nil {
		minRT = *in.MinRouteTables
	}
	api, err := e.Client(step.Region)
	if err != nil {
		return nil, err
	}
	vpcs, err := api.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{filter("tag:Name", in.VPCName)}})
	if err != nil {
		return nil, fmt.Errorf("describe VPC %s: %w", in.VPCName, err)
	}
	switch len(vpcs.Vpcs) {
	case 0:
		return nil, checkFailed("no VPC named %s in %s", in.VPCName, step.Region)
	case 1:
	default:
		return nil, checkFailed("%d VPCs are named %s in %s; want exactly one", len(vpcs.Vpcs), in.VPCName, step.Region)
	}
	vpc := aws.ToString(vpcs.Vpcs[0].VpcId)
	byVPC := []types.Filter{filter("vpc-id", vpc)}
	var subnets, sgs, rts []string
	sp := ec2.NewDescribeSubnetsPaginator(api, &ec2.DescribeSubnetsInput{Filters: byVPC})
	for sp.HasMorePages() {
		page, err := sp.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe subnets of %s: %w", vpc, err)
		}
		for _, s := range page.Subnets {
			subnets = append(subnets, aws.ToString(s.SubnetId))
		}
	}
	found := map[string]string{}
	gp := ec2.NewDescribeSecurityGroupsPaginator(api, &ec2.DescribeSecurityGroupsInput{Filters: byVPC})
	for gp.HasMorePages() {
		page, err := gp.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe security groups of %s: %w", vpc, err)
		}
		for _, g := range page.SecurityGroups {
			found[aws.ToString(g.GroupName)] = aws.ToString(g.GroupId)
		}
	}
	rp := ec2.NewDescribeRouteTablesPaginator(api, &ec2.DescribeRouteTablesInput{Filters: byVPC})
	for rp.HasMorePages() {
		page, err := rp.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe route tables of %s: %w", vpc, err)
		}
		for _, r := range page.RouteTables {
			rts = append(rts, aws.ToString(r.RouteTableId))
		}
	}
	var problems []string
	if len(subnets) < minSubnets {
		problems = append(problems, fmt.Sprintf("%d subnets < minSubnets %d", len(subnets), minSubnets))
	}
	var missing []string
	for _, n := range in.SecurityGroups {
		if id, ok := found[n]; ok {
			sgs = append(sgs, id)
		} else {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		problems = append(problems, "missing security groups "+strings.Join(missing, ", "))
	}
	if len(rts) < minRT {
		problems = append(problems, fmt.Sprintf("%d route tables < minRouteTables %d", len(rts), minRT))
	}
	if len(problems) > 0 {
		return nil, checkFailed("VPC %s (%s) in %s: %s", in.VPCName, vpc, step.Region, strings.Join(problems, "; "))
	}
	progress.Report(fmt.Sprintf("VPC %s (%s): %d subnets, %d security groups, %d route tables", in.VPCName, vpc, len(subnets), len(sgs), len(rts)))
	return action.Outputs(catalog.VerifyNetwork, catalog.VerifyNetworkOut{VPCID: vpc, SubnetIDs: subnets, SecurityGroupIDs: sgs, RouteTableIDs: rts})
}
