package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kirikae/kirikae/system"
)

func init() { register(newSystemCommand) }

// systemExample is a whole system file, the smallest the format allows but for a cache;
// a test holds it valid.
const systemExample = `apiVersion: kirikae/v1
kind: System
metadata: {name: shop}
spec:
  account: "111122223333"              # optional
  objectives: {rpo: 1h, rto: 4h}
  dns: {zone: shop.example.com, record: www.shop.example.com}   # the name that moves
  regions:
    primary:                           # where it runs in peacetime
      region: us-east-1
      network: {vpc: shop-east, securityGroups: {db: shop-east-db}}
      database: {instance: shop-east, engine: postgres, instanceClass: db.t4g.medium,
                 subnetGroup: shop-east-db, parameterGroup: shop-pg16, securityGroup: db}
      loadBalancer: {name: shop-east}
      ecs: {cluster: shop-east, services: {web: {name: shop-web, taskFamily: shop-web, desiredCount: 2}}}
    secondary:                         # where it fails over to: the same shape
      region: us-west-2
      network: {vpc: shop-west, securityGroups: {db: shop-west-db}}
      database: {instance: shop-west, engine: postgres, instanceClass: db.t4g.medium,
                 subnetGroup: shop-west-db, parameterGroup: shop-pg16, securityGroup: db}
      loadBalancer: {name: shop-west}
      ecs: {cluster: shop-west, services: {web: {name: shop-web, taskFamily: shop-web, desiredCount: 2}}}
`

var systemFormatHelp = `A system file describes your system once: its two regions, its resources by the names
you know them by, and its recovery objectives. Plans, readiness, drills and the simulator
read it, and a plan refers to its values as ${system.PATH}, for example
${system.secondary.loadBalancer.name} or ${system.objectives.rpo}.

Give names, never ids that change when a resource is rebuilt: the VPC's Name tag, a
security group's name (not sg-...), the load balancer's name (not its DNS name), the hosted
zone's domain name (not Z...). kirikae finds the ids by name at run time. Things plans
refer to get logical names of your choosing (web, db, alerts); both regions name the same.

` + indent(systemExample, "  ") + `
Each region may also have a cache (ElastiCache), backup (an AWS Backup vault), secrets,
topics (SNS) and a bucket (S3). Complete examples: deploy/systems/kaigo.yaml (the seed
system) and deploy/systems/example-eu.yaml (two services, no cache). The reference, field
by field: system/doc.go in the kirikae source, or go doc github.com/kirikae/kirikae/system.`

func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "")
}

func newSystemCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "system",
		Short: "Validate, store and show the system file, the one description of your system",
		Long: "`system validate` checks system files offline; `system apply` stores one in the control plane,\n" +
			"where plans, readiness and drills read it, and `system show` prints what is stored.\n\n" + systemFormatHelp,
	}
	cmd.AddCommand(newSystemValidateCommand(), newSystemApplyCommand(), newSystemShowCommand())
	return cmd
}

func newSystemValidateCommand() *cobra.Command {
	var of planOutputFlag
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check system files strictly and report every problem with file:line and field",
		Long: `Check system files strictly. A valid file is summed up: its name, its regions, its
objectives, its digest (the SHA-256 of its canonical form, the same for two files that
say the same thing) and how many resources of each kind each region names. Every problem
in an invalid file is reported, each as FILE:LINE: FIELD: MESSAGE, and the command exits 1
if any file is invalid.

` + systemFormatHelp,
		Example: `  kirikae system validate deploy/systems/kaigo.yaml
  kirikae system validate -o json my-system.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := of.validate(); err != nil {
				return err
			}
			return runSystemValidate(cmd.OutOrStdout(), of.output, args)
		},
	}
	of.Bind(cmd.Flags())
	return cmd
}

// systemFileResult is one file's outcome in `system validate -o json`.
type systemFileResult struct {
	File       string                `json:"file"`
	Valid      bool                  `json:"valid"`
	Name       string                `json:"name"`
	Account    string                `json:"account"`
	Digest     string                `json:"digest"`
	Objectives *systemObjectives     `json:"objectives"`
	DNS        *system.DNS           `json:"dns"`
	Regions    []systemRegionSummary `json:"regions"`
	Errors     []system.FieldError   `json:"errors"`
}

type systemObjectives struct {
	RPO string `json:"rpo"`
	RTO string `json:"rto"`
}

type systemRegionSummary struct {
	Role   system.Role `json:"role"`
	Region string      `json:"region"`
	// Resources counts the resources the region names, by kind.
	Resources map[string]int `json:"resources"`
	// Total is the sum of Resources.
	Total int `json:"total"`
}

func summarizeSystem(file string, s *system.System) systemFileResult {
	r := systemFileResult{File: file, Valid: true, Name: s.Name, Account: s.Account, Digest: s.Digest(),
		Objectives: &systemObjectives{RPO: systemValue(s, "objectives.rpo"), RTO: systemValue(s, "objectives.rto")},
		DNS:        &s.DNS, Errors: []system.FieldError{}}
	for _, reg := range s.Regions {
		sum := systemRegionSummary{Role: reg.Role, Region: reg.Name, Resources: map[string]int{}}
		for _, res := range reg.Resources() {
			sum.Resources[res.Kind]++
			sum.Total++
		}
		r.Regions = append(r.Regions, sum)
	}
	return r
}

// systemValue is the value at path as a plan reads it (1h30m, not 1.5h), or "-".
func systemValue(s *system.System, path string) string {
	v, err := s.Lookup(path)
	if err != nil {
		return "-"
	}
	return v
}

func runSystemValidate(out io.Writer, output string, files []string) error {
	var results []systemFileResult
	invalid, count := 0, 0
	for _, f := range files {
		s, err := system.ParseFile(f)
		var ve *system.ValidationError
		var r systemFileResult
		switch {
		case err == nil:
			r = summarizeSystem(f, s)
		case errors.As(err, &ve):
			r = systemFileResult{File: f, Errors: ve.Errors}
		default:
			r = systemFileResult{File: f, Errors: []system.FieldError{{File: f, Field: "file", Msg: err.Error()}}}
		}
		if r.Regions == nil {
			r.Regions = []systemRegionSummary{}
		}
		if !r.Valid {
			invalid++
			count += len(r.Errors)
		}
		results = append(results, r)
	}
	if output == "json" {
		if err := writeJSON(out, results); err != nil {
			return err
		}
	} else {
		for i, r := range results {
			if i > 0 {
				fmt.Fprintln(out)
			}
			if err := writeSystemResult(out, r); err != nil {
				return err
			}
		}
	}
	if invalid > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d of %d system files invalid, %d errors", invalid, len(files), count)}
	}
	return nil
}

func writeSystemResult(out io.Writer, r systemFileResult) error {
	if !r.Valid {
		for _, e := range r.Errors {
			fmt.Fprintln(out, e.String())
		}
		return nil
	}
	fmt.Fprintf(out, "%s: ok\n", r.File)
	account := ""
	if r.Account != "" {
		account = " (account " + r.Account + ")"
	}
	fmt.Fprintf(out, "System:      %s%s\n", r.Name, account)
	var pair []string
	for _, reg := range r.Regions {
		pair = append(pair, fmt.Sprintf("%s %s", reg.Role, reg.Region))
	}
	fmt.Fprintf(out, "Regions:     %s\n", strings.Join(pair, " -> "))
	fmt.Fprintf(out, "Objectives:  RPO %s, RTO %s\n", r.Objectives.RPO, r.Objectives.RTO)
	fmt.Fprintf(out, "DNS:         %s %s in zone %s\n", r.DNS.Record, r.DNS.Type, r.DNS.Zone)
	fmt.Fprintf(out, "Digest:      %s\n\n", r.Digest)
	header := []string{"RESOURCES"}
	for _, reg := range r.Regions {
		header = append(header, strings.ToUpper(string(reg.Role))+" "+reg.Region)
	}
	var rows [][]string
	for _, kind := range system.Kinds() {
		row, any := []string{kind}, false
		for _, reg := range r.Regions {
			n := reg.Resources[kind]
			any = any || n > 0
			row = append(row, fmt.Sprint(n))
		}
		if any {
			rows = append(rows, row)
		}
	}
	total := []string{"total"}
	for _, reg := range r.Regions {
		total = append(total, fmt.Sprint(reg.Total))
	}
	return table(out, header, append(rows, total))
}
