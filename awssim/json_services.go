package awssim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ---- ECS ----

type ecsCluster struct {
	Name     string                 `json:"name"`
	Services map[string]*ecsService `json:"services"`
}

type ecsService struct {
	Name        string    `json:"name"`
	TaskDef     string    `json:"taskDef"`
	PrevTaskDef string    `json:"prevTaskDef"`
	Desired     int       `json:"desired"`
	TargetGroup string    `json:"targetGroup"`
	Created     time.Time `json:"created"`
	DeployAt    time.Time `json:"deployAt"`
	StableAt    time.Time `json:"stableAt"`
	Tasks       []*task   `json:"tasks"`
}

// task runs from Start until Stop (zero: until further notice). A task whose Stop is before
// its Start never ran.
type task struct {
	ID      string    `json:"id"`
	TaskDef string    `json:"taskDef"`
	IP      string    `json:"ip"`
	Start   time.Time `json:"start"`
	Stop    time.Time `json:"stop"`
}

func (t *task) runningAt(now time.Time) bool {
	return !t.Start.After(now) && (t.Stop.IsZero() || t.Stop.After(now))
}

func (t *task) pendingAt(now time.Time) bool {
	return t.Start.After(now) && (t.Stop.IsZero() || t.Stop.After(t.Start))
}

const maxTasksPerService = 500

var ecsOps = map[string]jsonOp{
	"RegisterTaskDefinition": ecsRegister,
	"DescribeTaskDefinition": ecsDescribeTaskDef,
	"UpdateService":          ecsUpdateService,
	"DescribeServices":       ecsDescribeServices,
	"DescribeClusters":       ecsDescribeClusters,
}

type taskDef struct {
	Family   string                     `json:"family"`
	Revision int                        `json:"revision"`
	Body     map[string]json.RawMessage `json:"body"`
	At       time.Time                  `json:"at"`
}

func (c *call) taskDefARN(family string, rev int) string {
	return arn("ecs", c.region, fmt.Sprintf("task-definition/%s:%d", family, rev))
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
	delete(body, "tags")
	revs := c.rs().TaskDefs[family]
	td := &taskDef{Family: family, Revision: len(revs) + 1, Body: body, At: c.now}
	c.rs().TaskDefs[family] = append(revs, td)
	c.journal(fmt.Sprintf("%s:%d", family, td.Revision))
	return map[string]any{"taskDefinition": c.taskDefJSON(td)}, nil
}

// findTaskDef resolves "family", "family:rev" or a task definition ARN.
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
		return revs[len(revs)-1]
	}
	n, err := strconv.Atoi(rev)
	if err != nil || n < 1 || n > len(revs) {
		return nil
	}
	return revs[n-1]
}

func ecsDescribeTaskDef(c *call) (any, error) {
	var in struct {
		TaskDefinition string `json:"taskDefinition"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	if in.TaskDefinition == "" {
		return nil, badRequest("ClientException", "TaskDefinition cannot be empty.")
	}
	td := c.findTaskDef(in.TaskDefinition)
	if td == nil {
		return nil, badRequest("ClientException", "Unable to describe task definition.")
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
		if t.TaskDef == s.TaskDef {
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
	deps := []map[string]any{{
		"id": fmt.Sprintf("ecs-svc/%019d", s.DeployAt.UnixNano()), "status": "PRIMARY", "taskDefinition": s.TaskDef,
		"desiredCount": s.Desired, "runningCount": runNew, "pendingCount": pendNew, "launchType": "FARGATE",
		"createdAt": epoch(s.DeployAt), "updatedAt": epoch(s.DeployAt), "rolloutState": rollout,
	}}
	if s.PrevTaskDef != "" && s.PrevTaskDef != s.TaskDef && c.now.Before(s.StableAt) {
		deps = append(deps, map[string]any{
			"id": fmt.Sprintf("ecs-svc/%019d", s.DeployAt.UnixNano()-1), "status": "ACTIVE", "taskDefinition": s.PrevTaskDef,
			"desiredCount": 0, "runningCount": running - runNew, "pendingCount": 0, "launchType": "FARGATE",
			"createdAt": epoch(s.Created), "updatedAt": epoch(s.DeployAt), "rolloutState": "COMPLETED",
		})
	}
	out := map[string]any{
		"serviceArn":     arn("ecs", c.region, "service/"+cl.Name+"/"+s.Name),
		"serviceName":    s.Name,
		"clusterArn":     arn("ecs", c.region, "cluster/"+cl.Name),
		"status":         "ACTIVE",
		"desiredCount":   s.Desired,
		"runningCount":   running,
		"pendingCount":   pending,
		"launchType":     "FARGATE",
		"taskDefinition": s.TaskDef,
		"deployments":    deps,
		"events":         []any{},
		"createdAt":      epoch(s.Created),
	}
	if s.TargetGroup != "" {
		out["loadBalancers"] = []map[string]any{{"targetGroupArn": s.TargetGroup, "containerName": "app", "containerPort": 8080}}
	}
	return out
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
		if _, rev, ok := strings.Cut(svcName(in.TaskDefinition), ":"); ok {
			if _, err := strconv.Atoi(rev); err != nil {
				// The seed's "kaigo-subsys-dr:latest" lands here, as it would on AWS.
				return nil, badRequest("ClientException", "Invalid revision number. Number: %s", rev)
			}
		}
		td := c.findTaskDef(in.TaskDefinition)
		if td == nil {
			return nil, badRequest("ClientException", "TaskDefinition not found.")
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
	replace := taskDef != s.TaskDef || force
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
	for i := 0; i < add; i++ {
		n := c.s.st.next()
		s.Tasks = append(s.Tasks, &task{
			ID:      fmt.Sprintf("%032x", n),
			TaskDef: taskDef,
			IP:      fmt.Sprintf("10.%d.%d.%d", regionOctet(c.region), 10+n/250%200, 1+n%250),
			Start:   now.Add(time.Duration(float64(d) * float64(i+1) / float64(add))),
		})
	}
	if taskDef != s.TaskDef {
		s.PrevTaskDef = s.TaskDef
	}
	s.TaskDef = taskDef
	s.Desired = desired
	s.DeployAt = now
	s.StableAt = now.Add(d)
}

func regionOctet(r string) int {
	if r == "us-west-2" {
		return 20
	}
	return 10
}

func ecsDescribeServices(c *call) (any, error) {
	var in struct {
		Cluster  string   `json:"cluster"`
		Services []string `json:"services"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	if len(in.Services) == 0 {
		return nil, badRequest("InvalidParameterException", "Services cannot be empty.")
	}
	cl, err := c.cluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	services, failures := []any{}, []any{}
	for _, ref := range in.Services {
		s := cl.Services[svcName(ref)]
		if s == nil {
			failures = append(failures, map[string]any{"arn": arn("ecs", c.region, "service/"+cl.Name+"/"+svcName(ref)), "reason": "MISSING"})
			continue
		}
		services = append(services, c.serviceJSON(cl, s))
	}
	return map[string]any{"services": services, "failures": failures}, nil
}

func ecsDescribeClusters(c *call) (any, error) {
	var in struct {
		Clusters []string `json:"clusters"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	if len(in.Clusters) == 0 {
		in.Clusters = []string{"default"}
	}
	clusters, failures := []any{}, []any{}
	for _, ref := range in.Clusters {
		cl, err := c.cluster(ref)
		if err != nil {
			failures = append(failures, map[string]any{"arn": arn("ecs", c.region, "cluster/"+svcName(ref)), "reason": "MISSING"})
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
		clusters = append(clusters, map[string]any{
			"clusterArn": arn("ecs", c.region, "cluster/"+cl.Name), "clusterName": cl.Name, "status": "ACTIVE",
			"runningTasksCount": running, "pendingTasksCount": pending, "activeServicesCount": len(cl.Services),
			"registeredContainerInstancesCount": 0,
		})
	}
	return map[string]any{"clusters": clusters, "failures": failures}, nil
}

// ---- Secrets Manager ----

type secret struct {
	Name        string           `json:"name"`
	ARN         string           `json:"arn"`
	Description string           `json:"description"`
	Created     time.Time        `json:"created"`
	Changed     time.Time        `json:"changed"`
	Versions    []*secretVersion `json:"versions"`
}

type secretVersion struct {
	ID      string    `json:"id"`
	Value   string    `json:"value"`
	Created time.Time `json:"created"`
	Stages  []string  `json:"stages"`
}

var secretsOps = map[string]jsonOp{
	"GetSecretValue": smGet,
	"PutSecretValue": smPut,
	"UpdateSecret":   smUpdate,
	"DescribeSecret": smDescribe,
}

func (c *call) findSecret(id string) (*secret, error) {
	if id == "" {
		return nil, badRequest("InvalidParameterException", "You must provide a value for SecretId.")
	}
	for _, s := range c.rs().Secrets {
		if s.Name == id || s.ARN == id || strings.HasPrefix(s.ARN, id+"-") && strings.HasPrefix(id, "arn:") {
			return s, nil
		}
	}
	return nil, badRequest("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
}

func smGet(c *call) (any, error) {
	var in struct {
		SecretID     string `json:"SecretId"`
		VersionID    string `json:"VersionId"`
		VersionStage string `json:"VersionStage"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	s, err := c.findSecret(in.SecretID)
	if err != nil {
		return nil, err
	}
	stage := in.VersionStage
	if stage == "" && in.VersionID == "" {
		stage = "AWSCURRENT"
	}
	for _, v := range s.Versions {
		if (in.VersionID == "" || v.ID == in.VersionID) && (stage == "" || slices.Contains(v.Stages, stage)) {
			return map[string]any{"ARN": s.ARN, "Name": s.Name, "VersionId": v.ID, "SecretString": v.Value,
				"VersionStages": v.Stages, "CreatedDate": epoch(v.Created)}, nil
		}
	}
	return nil, badRequest("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: %s", stage)
}

// putVersion adds a version as AWSCURRENT. A repeated ClientRequestToken with the same value
// is a no-op, as in AWS; with a different value it is ResourceExistsException.
func (c *call) putVersion(s *secret, token, value string) (*secretVersion, error) {
	for _, v := range s.Versions {
		if token != "" && v.ID == token {
			if v.Value == value {
				return v, nil
			}
			return nil, badRequest("ResourceExistsException", "A resource with the ID you requested already exists.")
		}
	}
	if token == "" {
		token = fmt.Sprintf("00000000-0000-4000-a000-%012d", c.s.st.next())
	}
	for _, v := range s.Versions {
		if slices.Contains(v.Stages, "AWSCURRENT") {
			v.Stages = []string{"AWSPREVIOUS"}
		} else {
			v.Stages = slices.DeleteFunc(v.Stages, func(st string) bool { return st == "AWSPREVIOUS" })
		}
	}
	v := &secretVersion{ID: token, Value: value, Created: c.now, Stages: []string{"AWSCURRENT"}}
	s.Versions = append(s.Versions, v)
	s.Changed = c.now
	c.journal(s.Name)
	return v, nil
}

func smPut(c *call) (any, error) {
	var in struct {
		SecretID     string `json:"SecretId"`
		SecretString *string
		SecretBinary []byte
		Token        string `json:"ClientRequestToken"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	s, err := c.findSecret(in.SecretID)
	if err != nil {
		return nil, err
	}
	if in.SecretString == nil && in.SecretBinary == nil {
		return nil, badRequest("InvalidParameterException", "You must provide either SecretString or SecretBinary.")
	}
	val := string(in.SecretBinary)
	if in.SecretString != nil {
		val = *in.SecretString
	}
	v, err := c.putVersion(s, in.Token, val)
	if err != nil {
		return nil, err
	}
	return map[string]any{"ARN": s.ARN, "Name": s.Name, "VersionId": v.ID, "VersionStages": v.Stages}, nil
}

func smUpdate(c *call) (any, error) {
	var in struct {
		SecretID     string `json:"SecretId"`
		SecretString *string
		Description  *string
		Token        string `json:"ClientRequestToken"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	s, err := c.findSecret(in.SecretID)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"ARN": s.ARN, "Name": s.Name}
	if in.Description != nil {
		s.Description = *in.Description
		s.Changed = c.now
		c.journal(s.Name)
	}
	if in.SecretString != nil {
		v, err := c.putVersion(s, in.Token, *in.SecretString)
		if err != nil {
			return nil, err
		}
		out["VersionId"] = v.ID
	}
	return out, nil
}

func smDescribe(c *call) (any, error) {
	var in struct {
		SecretID string `json:"SecretId"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	s, err := c.findSecret(in.SecretID)
	if err != nil {
		return nil, err
	}
	stages := map[string][]string{}
	for _, v := range s.Versions {
		if len(v.Stages) > 0 {
			stages[v.ID] = v.Stages
		}
	}
	return map[string]any{"ARN": s.ARN, "Name": s.Name, "Description": s.Description,
		"CreatedDate": epoch(s.Created), "LastChangedDate": epoch(s.Changed), "VersionIdsToStages": stages}, nil
}

// ---- Health ----

// HealthEvent is an AWS Health event the simulator reports through DescribeEvents.
type HealthEvent struct {
	ARN      string    `json:"arn"`
	Service  string    `json:"service"`
	TypeCode string    `json:"eventTypeCode"`
	Category string    `json:"eventTypeCategory"`
	Region   string    `json:"region"`
	Start    time.Time `json:"startTime"`
	End      time.Time `json:"endTime"`
}

type healthEvent = HealthEvent

// OpenHealthEvent opens an issue event for a region and returns its ARN. Empty fields take
// the values of the seed's example (EC2, AWS_EC2_OPERATIONAL_ISSUE, issue).
func (s *Sim) OpenHealthEvent(ev HealthEvent) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ev.Service == "" {
		ev.Service = "EC2"
	}
	if ev.TypeCode == "" {
		ev.TypeCode = "AWS_" + ev.Service + "_OPERATIONAL_ISSUE"
	}
	if ev.Category == "" {
		ev.Category = "issue"
	}
	if ev.Start.IsZero() {
		ev.Start = s.now()
	}
	ev.End = time.Time{}
	ev.ARN = fmt.Sprintf("arn:aws:health:%s::event/%s/%s/%s_SIM_%d", ev.Region, ev.Service, ev.TypeCode, ev.TypeCode, s.st.next())
	s.st.Health = append(s.st.Health, &ev)
	_ = s.saveLocked()
	return ev.ARN
}

// CloseHealthEvent closes the event with the given ARN, or every open event in the region
// when arn is empty. It reports how many it closed.
func (s *Sim) CloseHealthEvent(region, eventARN string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ev := range s.st.Health {
		if ev.End.IsZero() && (eventARN == ev.ARN || eventARN == "" && ev.Region == region) {
			ev.End = s.now()
			n++
		}
	}
	_ = s.saveLocked()
	return n
}

var healthOps = map[string]jsonOp{
	"DescribeEvents": func(c *call) (any, error) {
		var in struct {
			Filter struct {
				Regions             []string `json:"regions"`
				Services            []string `json:"services"`
				EventTypeCodes      []string `json:"eventTypeCodes"`
				EventTypeCategories []string `json:"eventTypeCategories"`
				EventStatusCodes    []string `json:"eventStatusCodes"`
			} `json:"filter"`
		}
		if err := decodeJSON(c, &in); err != nil {
			return nil, err
		}
		f := in.Filter
		events := []any{}
		for _, ev := range c.s.st.Health {
			status := "open"
			if !ev.End.IsZero() {
				status = "closed"
			}
			if !in1(f.Regions, ev.Region) || !in1(f.Services, ev.Service) || !in1(f.EventTypeCodes, ev.TypeCode) ||
				!in1(f.EventTypeCategories, ev.Category) || !in1(f.EventStatusCodes, status) {
				continue
			}
			e := map[string]any{"arn": ev.ARN, "service": ev.Service, "eventTypeCode": ev.TypeCode,
				"eventTypeCategory": ev.Category, "region": ev.Region,
				"startTime": epoch(ev.Start), "lastUpdatedTime": epoch(ev.Start), "statusCode": status,
				"eventScopeCode": "PUBLIC"}
			if !ev.End.IsZero() {
				e["endTime"] = epoch(ev.End)
				e["lastUpdatedTime"] = epoch(ev.End)
			}
			events = append(events, e)
		}
		return map[string]any{"events": events}, nil
	},
}

// in1 is true when the filter is empty or holds v.
func in1(filter []string, v string) bool { return len(filter) == 0 || slices.Contains(filter, v) }
