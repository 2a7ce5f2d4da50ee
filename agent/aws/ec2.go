package aws

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/kirikae/kirikae/agent/action"
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
	name, err := action.Str(step, "vpcName")
	if err != nil {
		return nil, err
	}
	minSubnets, err := action.OptInt(step, "minSubnets", 2)
	if err != nil {
		return nil, err
	}
	sgNames, err := action.List(step, "securityGroups")
	if err != nil {
		return nil, err
	}
	minRT, err := action.OptInt(step, "minRouteTables", 1)
	if err != nil {
		return nil, err
	}
	api, err := e.Client(step.Region)
	if err != nil {
		return nil, err
	}
	vpcs, err := api.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{filter("tag:Name", name)}})
	if err != nil {
		return nil, fmt.Errorf("describe VPC %s: %w", name, err)
	}
	switch len(vpcs.Vpcs) {
	case 0:
		return nil, checkFailed("no VPC named %s in %s", name, step.Region)
	case 1:
	default:
		return nil, checkFailed("%d VPCs are named %s in %s; want exactly one", len(vpcs.Vpcs), name, step.Region)
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
	if int64(len(subnets)) < minSubnets {
		problems = append(problems, fmt.Sprintf("%d subnets < minSubnets %d", len(subnets), minSubnets))
	}
	var missing []string
	for _, n := range sgNames {
		if id, ok := found[n]; ok {
			sgs = append(sgs, id)
		} else {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		problems = append(problems, "missing security groups "+strings.Join(missing, ", "))
	}
	if int64(len(rts)) < minRT {
		problems = append(problems, fmt.Sprintf("%d route tables < minRouteTables %d", len(rts), minRT))
	}
	if len(problems) > 0 {
		return nil, checkFailed("VPC %s (%s) in %s: %s", name, vpc, step.Region, strings.Join(problems, "; "))
	}
	progress.Report(fmt.Sprintf("VPC %s (%s): %d subnets, %d security groups, %d route tables", name, vpc, len(subnets), len(sgs), len(rts)))
	return map[string]any{"vpcId": vpc, "subnetIds": anyList(subnets), "securityGroupIds": anyList(sgs), "routeTableIds": anyList(rts)}, nil
}
