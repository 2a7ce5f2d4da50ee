package awssim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

type ecsCluster struct {
	Name     string                 `json:"name"`
	Services map[string]*ecsService `json:"services"`
	Tags     []tag                  `json:"tags,omitempty"`
}

type ecsService struct {
	Name        string `json:"name"`
	TaskDef     string `json:"taskDef"`
	PrevTaskDef string `json:"prevTaskDef"`
	// Deploy numbers deployments; Replacing says the previous one is still draining (ACTIVE)
	// until StableAt, which is what keeps ServicesStable waiting, as on ECS.
	Deploy      int    `json:"deploy"`
	Replacing   bool   `json:"replacing"`
	Desired     int    `json:"desired"`
	TargetGroup string `json:"targetGroup"`
	// SecurityGroups names the groups its tasks run in (CreateService's networkConfiguration,
	// which awssim does not implement, so the fixture sets it); none means the VPC's default.
	SecurityGroups []string  `json:"securityGroups,omitempty"`
	Created        time.Time `json:"created"`
	DeployAt       time.Time `json:"deployAt"`
	StableAt       time.Time `json:"stableAt"`
	Tasks          []*task   `json:"tasks"`
	Tags           []tag     `json:"tags,omitempty"`
}

// task runs from Start until Stop (zero: until further notice). A task whose Stop is before
// its Start never ran.
type task struct {
	ID      string    `json:"id"`
	TaskDef string    `json:"taskDef"`
	IP      string    `json:"ip"`
	Start   time.Time `json:"start"`
	Stop    time.Time `json:"stop"`
	// Healthy is when the ALB starts calling the task healthy. It is fixed when the task is
	// scheduled, so a restart with another time scale does not rewrite history.
	Healthy time.Time `json:"healthy"`
	Deploy  int       `json:"deploy"`
}

func (t *task) runningAt(now time.Time) bool {
	return !t.Start.After(now) && (t.Stop.IsZero() || t.Stop.After(now))
}

func (t *task) pendingAt(now time.Time) bool {
	return t.Start.After(now) && (t.Stop.IsZero() || t.Stop.After(t.Start))
}

const maxTasksPerService = 500

// ecsOps are the ECS actions (awsJson1_1).
var ecsOps = map[string]jsonOp{
	"RegisterTaskDefinition":   ecsRegister,
	"DescribeTaskDefinition":   ecsDescribeTaskDef,
	"DeregisterTaskDefinition": ecsDeregisterTaskDef,
	"UpdateService":            ecsUpdateService,
	"DescribeServices":         ecsDescribeServices,
	"DescribeClusters":         ecsDescribeClusters,
	"ListTagsForResource":      ecsListTags,
}

// ecsTag is a tag as ECS writes it, in lower case.
type ecsTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ecsTagsIn checks the tags of a create: at most 50, each with a key of 1 to 128 and a
// value of at most 256 characters (API reference, Tag).
func ecsTagsIn(in []ecsTag) ([]tag, error) {
	if len(in) > 50 {
		return nil, badRequest("InvalidParameterException", "tags: %d tags given, at most 50 are allowed.", len(in))
	}
	out := make([]tag, len(in))
	for i, t := range in {
		if len(t.Key) < 1 || len(t.Key) > 128 || len(t.Value) > 256 {
			return nil, badRequest("InvalidParameterException", "tags[%d]: a key needs 1 to 128 characters and a value at most 256.", i)
		}
		out[i] = tag(t)
	}
	return out, nil
}

func ecsTagsOut(tags []tag) []ecsTag {
	out := make([]ecsTag, len(tags))
	for i, t := range tags {
		out[i] = ecsTag(t)
	}
	return out
}

// ecsInclude checks an include list against the values the operation takes and says
// whether TAGS is among them: ECS returns tags only when asked with include TAGS (API
// reference, DescribeServices, DescribeTaskDefinition and DescribeClusters).
func ecsInclude(include []string, allowed ...string) (tags bool, err error) {
	for _, v := range include {
		if !slices.Contains(allowed, v) {
			return false, badRequest("InvalidParameterException", "include: %q is not one of %s.", v, strings.Join(allowed, ", "))
		}
		tags = tags || v == "TAGS"
	}
	return tags, nil
}

// badRevision is ECS's answer to a task definition revision that is not a number, such as
// the seed's "kaigo-subsys-dr:latest": InvalidParameterException "Invalid revision number.
// Number: latest" (AWS's own answer, quoted by a CodeDeploy failure: "Invalid revision
// number. Number: latest (Service: AmazonECS; Status Code: 400; Error Code:
// InvalidParameterException ...)"; hashicorp/terraform-provider-aws#30313 for CreateService;
// getmoto/moto moto/ecs/models.py deregister_task_definition). An empty revision
// ("family:") is "Invalid revision number. Number: " likewise.
func badRevision(ref string) error {
	_, rev, ok := strings.Cut(svcName(ref), ":")
	if !ok {
		return nil
	}
	if _, err := strconv.Atoi(rev); err != nil {
		return badRequest("InvalidParameterException", "Invalid revision number. Number: %s", rev)
	}
	return nil
}

type taskDef struct {
	Family   string                     `json:"family"`
	Revision int                        `json:"revision"`
	Body     map[string]json.RawMessage `json:"body"`
	At       time.Time                  `json:"at"`
	// Deregistered is when DeregisterTaskDefinition made the revision INACTIVE; zero while
	// it is ACTIVE.
	Deregistered time.Time `json:"deregistered,omitzero"`
	Tags         []tag     `json:"tags,omitempty"`
}

func (td *taskDef) active() bool { return td.Deregistered.IsZero() }

func (c *call) taskDefARN(family string, rev int) string {
	return c.arn("ecs", c.region, fmt.Sprintf("task-definition/%s:%d", family, rev))
}

func (c *call) taskDefJSON(td *taskDef) map[string]any {
	out := map[string]any{}
	for k, v := range td.Body {
		out[k] = v
	}
	out["taskDefinitionArn"] = c.taskDefARN(td.Family, td.Revision)
	out["family"] = td.Family
	out["revision"] = td.Revision
	out["status"] = "ACTIVE"
	if !td.active() {
		out["status"] = "INACTIVE"
		out["deregisteredAt"] = epoch(td.Deregistered)
	}
	out["registeredAt"] = epoch(td.At)
	out["compatibilities"] = []string{"EC2", "FARGATE"}
	return out
}

func ecsRegister(c *call) (any, error) {
	var body map[string]json.RawMessage
	if err := decodeJSON(c, &body); err != nil {
		return nil, err
	}
	var family string
	if err := json.Unmarshal(body["family"], &family); err != nil || family == "" {
		return nil, badRequest("ClientException", "Family must be specified.")
	}
	var cds []json.RawMessage
	if err := json.Unmarshal(body["containerDefinitions"], &cds); err != nil || len(cds) == 0 {
		return nil, badRequest("ClientException", "Container list cannot be empty.")
	}
	// Tags are the revision's, kept as ECS keeps them: RegisterTaskDefinition answers them,
	// DescribeTaskDefinition with include TAGS and ListTagsForResource return them.
	var in []ecsTag
	if raw, ok := body["tags"]; ok {
		if err := json.Unmarshal(raw, &in); err != nil {
			return nil, badRequest("SerializationException", "tags: %v", err)
		}
	}
	tags, err := ecsTagsIn(in)
	if err != nil {
		return nil, err
	}
	delete(body, "tags")
	revs := c.rs().TaskDefs[family]
	td := &taskDef{Family: family, Revision: len(revs) + 1, Body: body, At: c.now, Tags: tags}
	c.rs().TaskDefs[family] = append(revs, td)
	c.journal(fmt.Sprintf("%s:%d", family, td.Revision))
	return map[string]any{"taskDefinition": c.taskDefJSON(td), "tags": ecsTagsOut(td.Tags)}, nil
}

// findTaskDef resolves "family", "family:rev" or a task definition ARN. A bare family is
// its latest ACTIVE revision, as on ECS; an explicit revision may be INACTIVE.
func (c *call) findTaskDef(ref string) *taskDef {
	if i := strings.Index(ref, ":task-definition/"); i >= 0 {
		ref = ref[i+len(":task-definition/"):]
	}
	family, rev, hasRev := strings.Cut(ref, ":")
	revs := c.rs().TaskDefs[family]
	if len(revs) == 0 {
		return nil
	}
	if !hasRev {
		for i := len(revs) - 1; i >= 0; i-- {
			if revs[i].active() {
				return revs[i]
			}
		}
		return nil
	}
	n, err := strconv.Atoi(rev)
	if err != nil || n < 1 || n > len(revs) {
		return nil
	}
	return revs[n-1]
}

func ecsDescribeTaskDef(c *call) (any, error) {
	var in struct {
		TaskDefinition string   `json:"taskDefinition"`
		Include        []string `json:"include"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	if in.TaskDefinition == "" {
		return nil, badRequest("ClientException", "TaskDefinition cannot be empty.")
	}
	withTags, err := ecsInclude(in.Include, "TAGS")
	if err != nil {
		return nil, err
	}
	if err := badRevision(in.TaskDefinition); err != nil {
		return nil, err
	}
	td := c.findTaskDef(in.TaskDefinition)
	if td == nil {
		return nil, badRequest("ClientException", "Unable to describe task definition.")
	}
	out := map[string]any{"taskDefinition": c.taskDefJSON(td)}
	if withTags {
		out["tags"] = ecsTagsOut(td.Tags)
	}
	return out, nil
}

// ecsDeregisterTaskDefinition marks one revision INACTIVE. ECS requires the revision (a
// bare family is refused); deregistering a revision that is already INACTIVE answers with
// it again and changes nothing, so it is not journaled a second time. Services keep running
// tasks of an INACTIVE revision, as on ECS.
func ecsDeregisterTaskDef(c *call) (any, error) {
	var in struct {
		TaskDefinition string `json:"taskDefinition"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	if in.TaskDefinition == "" {
		return nil, badRequest("ClientException", "TaskDefinition cannot be empty.")
	}
	if !strings.Contains(svcName(in.TaskDefinition), ":") {
		return nil, badRequest("ClientException", "Revision must be specified: use family:revision or the full task definition ARN.")
	}
	if err := badRevision(in.TaskDefinition); err != nil {
		return nil, err
	}
	td := c.findTaskDef(in.TaskDefinition)
	if td == nil {
		return nil, badRequest("ClientException", "The specified task definition does not exist.")
	}
	if td.active() {
		td.Deregistered = c.now
		c.journal(fmt.Sprintf("%s:%d", td.Family, td.Revision))
	}
	return map[string]any{"taskDefinition": c.taskDefJSON(td)}, nil
}

func (c *call) cluster(name string) (*ecsCluster, error) {
	if name == "" {
		name = "default"
	}
	if i := strings.LastIndex(name, ":cluster/"); i >= 0 {
		name = name[i+len(":cluster/"):]
	}
	cl := c.rs().Clusters[name]
	if cl == nil {
		return nil, badRequest("ClusterNotFoundException", "Cluster not found.")
	}
	return cl, nil
}

// service0 finds a service without errors, for the ALB's view of its targets.
func (c *call) service0(cluster, service string) *ecsService {
	cl := c.rs().Clusters[cluster]
	if cl == nil {
		return nil
	}
	return cl.Services[service]
}

func svcName(ref string) string {
	if i := strings.LastIndexByte(ref, '/'); i >= 0 {
		return ref[i+1:]
	}
	return ref
}

func (c *call) serviceJSON(cl *ecsCluster, s *ecsService) map[string]any {
	running, pending := 0, 0
	runNew, pendNew := 0, 0
	for _, t := range s.Tasks {
		r, p := t.runningAt(c.now), t.pendingAt(c.now)
		if r {
			running++
		}
		if p {
			pending++
		}
		if t.Deploy == s.Deploy {
			if r {
				runNew++
			}
			if p {
				pendNew++
			}
		}
	}
	rollout := "COMPLETED"
	if c.now.Before(s.StableAt) {
		rollout = "IN_PROGRESS"
	}
	network := c.serviceNetwork(s)
	primary := fmt.Sprintf("ecs-svc/%019d", s.DeployAt.UnixNano())
	deps := []map[string]any{{
		"id": primary, "status": "PRIMARY", "taskDefinition": s.TaskDef,
		"desiredCount": s.Desired, "runningCount": runNew, "pendingCount": pendNew, "failedTasks": 0, "launchType": "FARGATE",
		"platformFamily": ecsPlatformFamily, "networkConfiguration": network,
		"createdAt": epoch(s.DeployAt), "updatedAt": epoch(s.DeployAt), "rolloutState": rollout,
		"rolloutStateReason": rolloutReason(primary, rollout),
	}}
	if s.Replacing && c.now.Before(s.StableAt) {
		prev := fmt.Sprintf("ecs-svc/%019d", s.DeployAt.UnixNano()-1)
		deps = append(deps, map[string]any{
			"id": prev, "status": "ACTIVE", "taskDefinition": s.PrevTaskDef,
			"desiredCount": 0, "runningCount": running - runNew, "pendingCount": 0, "failedTasks": 0, "launchType": "FARGATE",
			"platformFamily": ecsPlatformFamily, "networkConfiguration": network,
			"createdAt": epoch(s.Created), "updatedAt": epoch(s.DeployAt), "rolloutState": "COMPLETED",
			"rolloutStateReason": rolloutReason(prev, "COMPLETED"),
		})
	}
	out := map[string]any{
		"serviceArn":     c.arn("ecs", c.region, "service/"+cl.Name+"/"+s.Name),
		"serviceName":    s.Name,
		"clusterArn":     c.arn("ecs", c.region, "cluster/"+cl.Name),
		"status":         "ACTIVE",
		"desiredCount":   s.Desired,
		"runningCount":   running,
		"pendingCount":   pending,
		"launchType":     "FARGATE",
		"taskDefinition": s.TaskDef,
		"deployments":    deps,
		"events":         []any{},
		"createdAt":      epoch(s.Created),
		// The fixture's services are as the seed creates them: the rolling-update (ECS)
		// deployment controller, the REPLICA scheduler, no tag propagation (the defaults:
		// API reference, CreateService deploymentController, schedulingStrategy and
		// propagateTags "If no value is specified, the tags aren't propagated"), and the
		// awsvpc network that Fargate requires.
		"deploymentController": map[string]string{"type": "ECS"},
		"schedulingStrategy":   "REPLICA",
		"propagateTags":        "NONE",
		"networkConfiguration": network,
	}
	if s.TargetGroup != "" {
		out["loadBalancers"] = []map[string]any{{"targetGroupArn": s.TargetGroup, "containerName": "app", "containerPort": 8080}}
	}
	return out
}

// ecsPlatformFamily is the platform family of a Fargate task whose task definition sets no
// runtimePlatform: Linux, as ECS writes it in the AWS CLI's example update-service
// ("platformFamily": "Linux" on the service and each deployment; aws/aws-cli
// awscli/examples/ecs/update-service.rst). A platform family "is specified only for tasks
// using the Fargate launch type" (API reference, Deployment).
const ecsPlatformFamily = "Linux"

// rolloutReason is a deployment's rolloutStateReason as ECS words it: "ECS deployment
// ecs-svc/7419115625193919142 in progress." while IN_PROGRESS, "ECS deployment
// ecs-svc/1709597507655421668 completed." once COMPLETED (the AWS CLI's example
// update-service, aws/aws-cli awscli/examples/ecs/update-service.rst; API reference,
// Deployment rolloutStateReason).
func rolloutReason(id, state string) string {
	if state == "COMPLETED" {
		return "ECS deployment " + id + " completed."
	}
	return "ECS deployment " + id + " in progress."
}

// serviceNetwork is a service's networkConfiguration (API reference, Service and
// Deployment: "The VPC subnet and security group configuration for tasks that receive
// their own elastic network interface by using the awsvpc networking mode", which Fargate
// requires). awssim has no CreateService: its services are the fixture's, which run in the
// VPC of their target group, in every subnet of it, with the security groups the fixture
// names for the service, or else the VPC's default security group ("If you don't specify a
// security group, the default security group for the VPC is used", AwsVpcConfiguration).
// assignPublicIp is DISABLED, the default of CreateService and UpdateService, and what a
// service with the ECS deployment controller must have (AwsVpcConfiguration
// assignPublicIp; botocore model ecs/2014-11-13).
func (c *call) serviceNetwork(s *ecsService) map[string]any {
	vpc := ""
	for _, tg := range c.rs().TargetGroups {
		if tg.ARN == s.TargetGroup {
			vpc = tg.VpcID
		}
	}
	subnets, sgs := []string{}, []string{}
	def := ""
	for _, r := range c.rs().EC2 {
		switch {
		case vpc == "" || r.VpcID != vpc:
		case r.Kind == "subnet":
			subnets = append(subnets, r.ID)
		case r.Kind == "sg" && slices.Contains(s.SecurityGroups, r.Name):
			sgs = append(sgs, r.ID)
		case r.Kind == "sg" && r.Name == "default":
			def = r.ID
		}
	}
	if len(sgs) == 0 && def != "" {
		sgs = append(sgs, def)
	}
	return map[string]any{"awsvpcConfiguration": map[string]any{
		"subnets": subnets, "securityGroups": sgs, "assignPublicIp": "DISABLED"}}
}

func ecsUpdateService(c *call) (any, error) {
	var in struct {
		Cluster            string `json:"cluster"`
		Service            string `json:"service"`
		DesiredCount       *int   `json:"desiredCount"`
		TaskDefinition     string `json:"taskDefinition"`
		ForceNewDeployment bool   `json:"forceNewDeployment"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	if in.Service == "" {
		return nil, badRequest("InvalidParameterException", "Service cannot be empty.")
	}
	cl, err := c.cluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	s := cl.Services[svcName(in.Service)]
	if s == nil {
		return nil, badRequest("ServiceNotFoundException", "Service not found.")
	}
	desired := s.Desired
	if in.DesiredCount != nil {
		if *in.DesiredCount < 0 {
			return nil, badRequest("InvalidParameterException", "DesiredCount must be >= 0.")
		}
		// AWS's quota is 5,000 tasks per service; the simulator models each task, so it
		// keeps a smaller limit and says so rather than eating memory.
		if *in.DesiredCount > maxTasksPerService {
			return nil, badRequest("InvalidParameterException", "DesiredCount %d exceeds the simulator's limit of %d tasks per service.", *in.DesiredCount, maxTasksPerService)
		}
		desired = *in.DesiredCount
	}
	newTD := s.TaskDef
	if in.TaskDefinition != "" {
		// The seed's "kaigo-subsys-dr:latest" lands here, as it does on AWS.
		if err := badRevision(in.TaskDefinition); err != nil {
			return nil, err
		}
		td := c.findTaskDef(in.TaskDefinition)
		if td == nil {
			return nil, badRequest("ClientException", "TaskDefinition not found.")
		}
		if !td.active() {
			return nil, badRequest("ClientException", "TaskDefinition is inactive")
		}
		newTD = c.taskDefARN(td.Family, td.Revision)
	}
	c.rollout(s, desired, newTD, in.ForceNewDeployment)
	c.journal(cl.Name + "/" + s.Name)
	return map[string]any{"service": c.serviceJSON(cl, s)}, nil
}

// rollout moves the service toward desired tasks of taskDef over the UpdateService duration:
// new tasks start evenly spread so the last one runs at the end; replaced or surplus tasks
// stop by then.
func (c *call) rollout(s *ecsService, desired int, taskDef string, force bool) {
	d := c.s.dur(c.service, OpUpdateService)
	now := c.now
	// Forget tasks that stopped in the past; they no longer matter to any read.
	live := s.Tasks[:0]
	for _, t := range s.Tasks {
		if t.Stop.IsZero() || t.Stop.After(now) {
			live = append(live, t)
		}
	}
	s.Tasks = live
	// A new task definition or a forced deployment replaces every task: a new PRIMARY
	// deployment starts them while the old one, now ACTIVE, drains.
	replace := taskDef != s.TaskDef || force
	if replace {
		s.Deploy++
		s.PrevTaskDef = s.TaskDef
		s.Replacing = true
	} else if !now.Before(s.StableAt) {
		s.Replacing = false
	}
	var keep []*task
	for _, t := range s.Tasks {
		if !t.Stop.IsZero() {
			continue // already on its way out
		}
		if replace {
			t.Stop = now.Add(d)
			continue
		}
		keep = append(keep, t)
	}
	if len(keep) > desired {
		// Stop the newest first, so pending tasks go before running ones.
		surplus := keep[desired:]
		for i, t := range surplus {
			t.Stop = now.Add(time.Duration(float64(d) * float64(i+1) / float64(len(surplus))))
		}
	}
	add := desired - len(keep)
	healthy := c.s.dur("elasticloadbalancing", OpTargetHealthy)
	for i := 0; i < add; i++ {
		n := c.s.st.next()
		start := now.Add(time.Duration(float64(d) * float64(i+1) / float64(add)))
		s.Tasks = append(s.Tasks, &task{
			ID:      fmt.Sprintf("%032x", n),
			TaskDef: taskDef,
			IP:      fmt.Sprintf("10.%d.%d.%d", c.s.st.octet(c.region), 10+n/250%200, 1+n%250),
			Start:   start,
			Healthy: start.Add(healthy),
			Deploy:  s.Deploy,
		})
	}
	s.TaskDef = taskDef
	s.Desired = desired
	s.DeployAt = now
	s.StableAt = now.Add(d)
}

func ecsDescribeServices(c *call) (any, error) {
	var in struct {
		Cluster  string   `json:"cluster"`
		Services []string `json:"services"`
		Include  []string `json:"include"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	if len(in.Services) == 0 {
		return nil, badRequest("InvalidParameterException", "Services cannot be empty.")
	}
	withTags, err := ecsInclude(in.Include, "TAGS")
	if err != nil {
		return nil, err
	}
	cl, err := c.cluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	services, failures := []any{}, []any{}
	for _, ref := range in.Services {
		s := cl.Services[svcName(ref)]
		if s == nil {
			failures = append(failures, map[string]any{"arn": c.arn("ecs", c.region, "service/"+cl.Name+"/"+svcName(ref)), "reason": "MISSING"})
			continue
		}
		sj := c.serviceJSON(cl, s)
		if withTags {
			sj["tags"] = ecsTagsOut(s.Tags)
		}
		services = append(services, sj)
	}
	return map[string]any{"services": services, "failures": failures}, nil
}

func ecsDescribeClusters(c *call) (any, error) {
	var in struct {
		Clusters []string `json:"clusters"`
		Include  []string `json:"include"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	withTags, err := ecsInclude(in.Include, "ATTACHMENTS", "CONFIGURATIONS", "SETTINGS", "STATISTICS", "TAGS")
	if err != nil {
		return nil, err
	}
	if len(in.Clusters) == 0 {
		in.Clusters = []string{"default"}
	}
	clusters, failures := []any{}, []any{}
	for _, ref := range in.Clusters {
		cl, err := c.cluster(ref)
		if err != nil {
			failures = append(failures, map[string]any{"arn": c.arn("ecs", c.region, "cluster/"+svcName(ref)), "reason": "MISSING"})
			continue
		}
		running, pending := 0, 0
		for _, s := range cl.Services {
			for _, t := range s.Tasks {
				if t.runningAt(c.now) {
					running++
				} else if t.pendingAt(c.now) {
					pending++
				}
			}
		}
		cj := map[string]any{
			"clusterArn": c.arn("ecs", c.region, "cluster/"+cl.Name), "clusterName": cl.Name, "status": "ACTIVE",
			"runningTasksCount": running, "pendingTasksCount": pending, "activeServicesCount": len(cl.Services),
			"registeredContainerInstancesCount": 0,
		}
		if withTags {
			cj["tags"] = ecsTagsOut(cl.Tags)
		}
		clusters = append(clusters, cj)
	}
	return map[string]any{"clusters": clusters, "failures": failures}, nil
}

// ecsListTags answers ListTagsForResource for a cluster, service or task definition ARN of
// the call's region. A service ARN may be of the long form (service/CLUSTER/NAME) or the
// old short one (service/NAME, looked for in every cluster).
func ecsListTags(c *call) (any, error) {
	var in struct {
		ResourceArn string `json:"resourceArn"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	if in.ResourceArn == "" {
		return nil, badRequest("InvalidParameterException", "resourceArn cannot be empty.")
	}
	rest, ok := strings.CutPrefix(in.ResourceArn, c.arn("ecs", c.region, ""))
	if !ok {
		return nil, badRequest("InvalidParameterException", "resourceArn %s is not an ECS ARN of this account and region.", in.ResourceArn)
	}
	typ, name, _ := strings.Cut(rest, "/")
	var tags []tag
	switch typ {
	case "cluster":
		cl := c.rs().Clusters[name]
		if cl == nil {
			return nil, badRequest("ClusterNotFoundException", "Cluster not found.")
		}
		tags = cl.Tags
	case "service":
		var svc *ecsService
		if clName, svcName, long := strings.Cut(name, "/"); long {
			if cl := c.rs().Clusters[clName]; cl != nil {
				svc = cl.Services[svcName]
			}
		} else {
			for _, k := range sortedKeys(c.rs().Clusters) {
				if s := c.rs().Clusters[k].Services[name]; s != nil && svc == nil {
					svc = s
				}
			}
		}
		if svc == nil {
			return nil, badRequest("ServiceNotFoundException", "Service not found.")
		}
		tags = svc.Tags
	case "task-definition":
		if !strings.Contains(name, ":") {
			return nil, badRequest("InvalidParameterException", "resourceArn %s names no revision.", in.ResourceArn)
		}
		if err := badRevision(name); err != nil {
			return nil, err
		}
		td := c.findTaskDef(name)
		if td == nil {
			return nil, badRequest("ClientException", "Unable to describe task definition.")
		}
		tags = td.Tags
	default:
		return nil, badRequest("InvalidParameterException", "resourceArn %s is not a cluster, service or task definition ARN.", in.ResourceArn)
	}
	return map[string]any{"tags": ecsTagsOut(tags)}, nil
}
