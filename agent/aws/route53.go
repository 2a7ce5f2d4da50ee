package aws

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/kirikae/kirikae/agent/action"
	"github.com/kirikae/kirikae/catalog"
)

// Route53API is what Route53UpsertAlias calls.
type Route53API interface {
	route53.GetChangeAPIClient
	ListHostedZonesByName(context.Context, *route53.ListHostedZonesByNameInput, ...func(*route53.Options)) (*route53.ListHostedZonesByNameOutput, error)
	ListResourceRecordSets(context.Context, *route53.ListResourceRecordSetsInput, ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error)
	ChangeResourceRecordSets(context.Context, *route53.ChangeResourceRecordSetsInput, ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error)
	TestDNSAnswer(context.Context, *route53.TestDNSAnswerInput, ...func(*route53.Options)) (*route53.TestDNSAnswerOutput, error)
}

// Route53UpsertAlias is aws.route53.upsertAlias: UPSERT the alias record, wait with the
// SDK's ResourceRecordSetsChanged waiter until the change is INSYNC, then verify.
//
// Verification reads the record back (it must be an alias to the target) and asks Route 53
// for its answer with TestDNSAnswer (NOERROR with data; when Options.LookupHost is set,
// the data must be addresses of the target). An endpoint that does not implement
// TestDNSAnswer (an emulator) leaves the read-back as the check. Any mismatch fails the step.
//
// Idempotency: when the record already is an alias to the target, no change is made and the
// answer is still verified. The changeId output is then the one this step recorded in
// Options.Memo when it made the change, or "" when it did not (someone else did).
//
// A zone given by name (hostedZone) is the public zone of that exact name
// (ListHostedZonesByName); a target given by load balancer name (targetLoadBalancer) is read
// from DescribeLoadBalancers in the step's region, so its DNS name and canonical hosted zone
// are the load balancer's own, never a value copied into a plan.
type Route53UpsertAlias struct {
	Client        func(region string) (Route53API, error)
	LoadBalancers func(region string) (elbv2.DescribeLoadBalancersAPIClient, error)
	Opts          Options
}

// Execute runs the step.
func (e *Route53UpsertAlias) Execute(ctx context.Context, step action.Step, progress action.ProgressFunc) (map[string]any, error) {
	in, err := action.Decode(step, catalog.UpsertAlias)
	if err != nil {
		return nil, err
	}
	name := in.RecordName
	rtype := strings.ToUpper(cmp.Or(in.RecordType, "A"))
	if rtype != "A" && rtype != "AAAA" && rtype != "CNAME" {
		return nil, fmt.Errorf("%w: with.recordType: an alias must be A, AAAA or CNAME, got %q", action.ErrInvalidInput, rtype)
	}
	switch {
	case (in.HostedZoneID == "") == (in.HostedZone == ""):
		return nil, fmt.Errorf("%w: with: give the zone as hostedZoneId or as hostedZone (its name), one of the two", action.ErrInvalidInput)
	case in.TargetLoadBalancer != "" && (in.TargetDNSName != "" || in.TargetHostedZoneID != ""):
		return nil, fmt.Errorf("%w: with: give the target as targetLoadBalancer, or as targetDnsName with targetHostedZoneId, not both", action.ErrInvalidInput)
	case in.TargetLoadBalancer == "" && (in.TargetDNSName == "" || in.TargetHostedZoneID == ""):
		return nil, fmt.Errorf("%w: with: give the target as targetLoadBalancer (an ALB's name), or as targetDnsName with targetHostedZoneId", action.ErrInvalidInput)
	}
	evaluate := in.EvaluateTargetHealth == nil || *in.EvaluateTargetHealth
	api, err := e.Client(step.Region)
	if err != nil {
		return nil, err
	}
	tr := action.NewTracker(progress, "Route 53 "+fqdn(name), nil)
	zone := strings.TrimPrefix(in.HostedZoneID, "/hostedzone/")
	if in.HostedZone != "" {
		if zone, err = zoneByName(ctx, api, in.HostedZone); err != nil {
			return nil, err
		}
		tr.Report("zone " + fqdn(in.HostedZone) + " is " + zone)
	}
	target, targetZone := in.TargetDNSName, in.TargetHostedZoneID
	if in.TargetLoadBalancer != "" {
		if e.LoadBalancers == nil {
			return nil, fmt.Errorf("%w: with.targetLoadBalancer: this agent has no ELBv2 client", action.ErrInvalidInput)
		}
		lbs, err := e.LoadBalancers(step.Region)
		if err != nil {
			return nil, err
		}
		if target, targetZone, err = loadBalancerTarget(ctx, lbs, in.TargetLoadBalancer, step.Region); err != nil {
			return nil, err
		}
		tr.Report("load balancer " + in.TargetLoadBalancer + " is " + target + " in zone " + targetZone)
	}
	rec, err := readRecord(ctx, api, zone, name, rtype)
	if err != nil {
		return nil, err
	}
	changeID := ""
	memoKey := "route53/" + step.Key()
	if aliasMatches(rec, target, targetZone, evaluate) {
		tr.Report("already an alias to " + fqdn(target))
		if e.Opts.Memo != nil {
			if m, ok := e.Opts.Memo.Get(memoKey); ok {
				changeID, _ = m["changeId"].(string)
			}
		}
	} else {
		tr.Report("UPSERT alias to " + fqdn(target))
		out, err := api.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
			HostedZoneId: aws.String(zone),
			ChangeBatch: &types.ChangeBatch{
				Comment: aws.String("kirikae " + step.RunID + "/" + step.StepID),
				Changes: []types.Change{{
					Action: types.ChangeActionUpsert,
					ResourceRecordSet: &types.ResourceRecordSet{
						Name: aws.String(fqdn(name)),
						Type: types.RRType(rtype),
						AliasTarget: &types.AliasTarget{
							DNSName: aws.String(fqdn(target)), HostedZoneId: aws.String(targetZone),
							EvaluateTargetHealth: evaluate,
						},
					},
				}},
			},
		})
		if err != nil {
			return nil, fmt.Errorf("UPSERT %s in %s: %w", fqdn(name), zone, err)
		}
		changeID = strings.TrimPrefix(aws.ToString(out.ChangeInfo.Id), "/change/")
		if e.Opts.Memo != nil {
			if err := e.Opts.Memo.Put(memoKey, map[string]any{"changeId": changeID}); err != nil {
				return nil, fmt.Errorf("record change %s: %w", changeID, err)
			}
		}
	}
	// Wait for the change this step made, also when an earlier attempt made it and the agent
	// restarted before it was INSYNC.
	if changeID != "" {
		lo, hi := e.Opts.delays()
		w := route53.NewResourceRecordSetsChangedWaiter(api, func(wo *route53.ResourceRecordSetsChangedWaiterOptions) {
			wo.MinDelay, wo.MaxDelay = lo, hi
			wo.Retryable = track(wo.Retryable, func(out *route53.GetChangeOutput) {
				if out.ChangeInfo != nil {
					tr.Report("change " + changeID + " " + string(out.ChangeInfo.Status))
				}
			})
		})
		if err := w.Wait(ctx, &route53.GetChangeInput{Id: aws.String(changeID)}, e.Opts.maxWait(ctx)); err != nil {
			return nil, waitErr("change "+changeID+" to be INSYNC", err)
		}
	}
	// Verify: the record as Route 53 now has it, then the answer it gives.
	rec, err = readRecord(ctx, api, zone, name, rtype)
	if err != nil {
		return nil, err
	}
	if !aliasMatches(rec, target, targetZone, evaluate) {
		have := "no record"
		if rec != nil && rec.AliasTarget != nil {
			have = "alias to " + aws.ToString(rec.AliasTarget.DNSName) + " in zone " + aws.ToString(rec.AliasTarget.HostedZoneId)
		} else if rec != nil {
			have = "a plain record"
		}
		return nil, checkFailed("%s %s in zone %s is %s after the change, not an alias to %s", fqdn(name), rtype, zone, have, fqdn(target))
	}
	answer := fqdn(target)
	ta, err := api.TestDNSAnswer(ctx, &route53.TestDNSAnswerInput{
		HostedZoneId: aws.String(zone), RecordName: aws.String(fqdn(name)), RecordType: types.RRType(rtype),
	})
	switch {
	case err != nil && unsupported(err):
		tr.Report("TestDNSAnswer is not available here; verified by reading the record back")
	case err != nil:
		return nil, fmt.Errorf("TestDNSAnswer %s: %w", fqdn(name), err)
	default:
		if aws.ToString(ta.ResponseCode) != "NOERROR" || len(ta.RecordData) == 0 {
			return nil, checkFailed("Route 53 answers %s %s with %s and %d records", fqdn(name), rtype, aws.ToString(ta.ResponseCode), len(ta.RecordData))
		}
		if e.Opts.LookupHost != nil {
			addrs, lerr := e.Opts.LookupHost(ctx, strings.TrimSuffix(fqdn(target), "."))
			if lerr == nil && !slices.ContainsFunc(ta.RecordData, func(a string) bool { return slices.Contains(addrs, a) }) {
				return nil, checkFailed("Route 53 answers %s with %v, none of which is an address of %s (%v)", fqdn(name), ta.RecordData, fqdn(target), addrs)
			}
		}
		answer = strings.Join(ta.RecordData, ",")
	}
	tr.Report("verified: " + answer)
	return action.Outputs(catalog.UpsertAlias, catalog.UpsertAliasOut{HostedZoneID: zone, TargetDNSName: target, TargetHostedZoneID: targetZone,
		ChangeID: changeID, Answer: answer})
}

// zoneByName finds the public hosted zone named name. Route 53 may hold several zones of
// one name (a private one for a VPC, or a public one left over): exactly one public zone of
// that name must exist, or the step says which it found.
func zoneByName(ctx context.Context, api Route53API, name string) (string, error) {
	want := fqdn(strings.ToLower(name))
	var public []string
	in := &route53.ListHostedZonesByNameInput{DNSName: aws.String(want)}
	for {
		out, err := api.ListHostedZonesByName(ctx, in)
		if err != nil {
			return "", fmt.Errorf("find hosted zone %s: %w", want, err)
		}
		for _, z := range out.HostedZones {
			if strings.ToLower(aws.ToString(z.Name)) != want {
				return resolvedZone(want, public)
			}
			if z.Config == nil || !z.Config.PrivateZone {
				public = append(public, strings.TrimPrefix(aws.ToString(z.Id), "/hostedzone/"))
			}
		}
		if !out.IsTruncated {
			return resolvedZone(want, public)
		}
		in.DNSName, in.HostedZoneId = out.NextDNSName, out.NextHostedZoneId
	}
}

func resolvedZone(name string, public []string) (string, error) {
	switch len(public) {
	case 1:
		return public[0], nil
	case 0:
		return "", checkFailed("there is no public hosted zone named %s", name)
	default:
		return "", checkFailed("%d public hosted zones are named %s (%s): give hostedZoneId instead", len(public), name, strings.Join(public, ", "))
	}
}

// loadBalancerTarget reads an ALB's DNS name and canonical hosted zone, the two values an
// alias to it needs.
func loadBalancerTarget(ctx context.Context, api elbv2.DescribeLoadBalancersAPIClient, name, region string) (dns, zone string, err error) {
	out, err := api.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{name}})
	var nf *elbtypes.LoadBalancerNotFoundException
	switch {
	case errors.As(err, &nf):
		return "", "", checkFailed("there is no load balancer named %s in %s", name, region)
	case err != nil:
		return "", "", fmt.Errorf("describe load balancer %s: %w", name, err)
	case len(out.LoadBalancers) != 1:
		return "", "", checkFailed("DescribeLoadBalancers returned %d load balancers named %s in %s", len(out.LoadBalancers), name, region)
	}
	lb := out.LoadBalancers[0]
	dns, zone = aws.ToString(lb.DNSName), aws.ToString(lb.CanonicalHostedZoneId)
	if dns == "" || zone == "" {
		return "", "", checkFailed("load balancer %s in %s has no DNS name or canonical hosted zone yet", name, region)
	}
	return dns, zone, nil
}

// unsupported reports whether err says the endpoint does not implement the operation (an
// emulator); a missing zone or record is not that.
func unsupported(err error) bool {
	if isCode(err, "NotImplemented", "InvalidAction", "UnknownOperationException", "UnsupportedOperation") {
		return true
	}
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) {
		return false
	}
	status := re.HTTPStatusCode()
	return (status == 404 || status == 501) && !strings.HasPrefix(apiCode(err), "NoSuch")
}

func readRecord(ctx context.Context, api Route53API, zone, name, rtype string) (*types.ResourceRecordSet, error) {
	out, err := api.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{
		HostedZoneId: aws.String(zone), StartRecordName: aws.String(fqdn(name)), StartRecordType: types.RRType(rtype),
	})
	if err != nil {
		return nil, fmt.Errorf("read %s %s in zone %s: %w", fqdn(name), rtype, zone, err)
	}
	for i := range out.ResourceRecordSets {
		r := &out.ResourceRecordSets[i]
		if fqdn(aws.ToString(r.Name)) == fqdn(name) && string(r.Type) == rtype && r.SetIdentifier == nil {
			return r, nil
		}
	}
	return nil, nil
}

func aliasMatches(r *types.ResourceRecordSet, target, zone string, evaluate bool) bool {
	if r == nil || r.AliasTarget == nil {
		return false
	}
	have := strings.TrimPrefix(fqdn(aws.ToString(r.AliasTarget.DNSName)), "dualstack.")
	want := strings.TrimPrefix(fqdn(target), "dualstack.")
	return have == want && aws.ToString(r.AliasTarget.HostedZoneId) == zone && r.AliasTarget.EvaluateTargetHealth == evaluate
}
