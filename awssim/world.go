package awssim

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// world is the whole simulated state. Fields are exported only so encoding/json can persist
// it to Options.StateFile; nothing outside the package sees these types.
type world struct {
	// System is the name of the system the world was built from; empty for the empty world.
	System string `json:"system,omitempty"`
	// Pair is the world's regions, the primary first. A request for another region is
	// refused as AWS refuses a region the account cannot use.
	Pair []string `json:"pair,omitempty"`
	// Account is the account in every ARN and owner id.
	Account  string                     `json:"account,omitempty"`
	Seq      int                        `json:"seq"`
	Regions  map[string]*regionState    `json:"regions"`
	Zones    map[string]*hostedZone     `json:"zones"`
	Changes  map[string]*timeline       `json:"changes"`
	Health   []*HealthEvent             `json:"health"`
	Buckets  map[string]*bucket         `json:"buckets"`
	Alarms   map[string]*alarm          `json:"alarms"`
	Journal  []JournalEntry             `json:"journal"`
	Messages []SNSMessage               `json:"messages"`
	Items    map[string]json.RawMessage `json:"items"`
	// Credentials are the issued key pairs, kept so a restarted simulator accepts the
	// agents it served before. Reset keeps them; only New sets them.
	Credentials []Credential `json:"credentials,omitempty"`
}

type regionState struct {
	DBInstances map[string]*dbInstance `json:"dbInstances"`
	DBSnapshots map[string]*dbSnapshot `json:"dbSnapshots"`
	ParamGroups []string               `json:"paramGroups"`
	// ParamFamilies gives each of ParamGroups its family (postgres15); a group a state
	// file written before it existed leaves out is postgres15's, the kaigo world's.
	ParamFamilies map[string]string        `json:"paramFamilies,omitempty"`
	SubnetGroups  map[string][]string      `json:"subnetGroups"`
	ReplGroups    map[string]*replGroup    `json:"replGroups"`
	EC2           []*ec2Resource           `json:"ec2"`
	Vaults        map[string][]*recoveryPt `json:"vaults"`
	RestoreJobs   map[string]*restoreJob   `json:"restoreJobs"`
	FileSystems   map[string]*fileSystem   `json:"fileSystems"`
	Secrets       map[string]*secret       `json:"secrets"`
	TaskDefs      map[string][]*taskDef    `json:"taskDefs"`
	Clusters      map[string]*ecsCluster   `json:"clusters"`
	LoadBalancers map[string]*loadBalancer `json:"loadBalancers"`
	TargetGroups  map[string]*targetGroup  `json:"targetGroups"`
	Topics        map[string]bool          `json:"topics"`
	// KMSKeys are the region's KMS keys and OptionGroups its RDS option groups (rds.go).
	KMSKeys      []*kmsKey               `json:"kmsKeys,omitempty"`
	OptionGroups map[string]*optionGroup `json:"optionGroups"`
}

func newRegion() *regionState {
	return &regionState{
		DBInstances:   map[string]*dbInstance{},
		DBSnapshots:   map[string]*dbSnapshot{},
		SubnetGroups:  map[string][]string{},
		ReplGroups:    map[string]*replGroup{},
		Vaults:        map[string][]*recoveryPt{},
		RestoreJobs:   map[string]*restoreJob{},
		FileSystems:   map[string]*fileSystem{},
		Secrets:       map[string]*secret{},
		TaskDefs:      map[string][]*taskDef{},
		Clusters:      map[string]*ecsCluster{},
		LoadBalancers: map[string]*loadBalancer{},
		TargetGroups:  map[string]*targetGroup{},
		Topics:        map[string]bool{},
		OptionGroups:  map[string]*optionGroup{},
	}
}

// fill replaces maps a state file left out with empty ones, so handlers can write to them.
func (rs *regionState) fill() {
	n := newRegion()
	if rs.DBInstances == nil {
		rs.DBInstances = n.DBInstances
	}
	if rs.DBSnapshots == nil {
		rs.DBSnapshots = n.DBSnapshots
	}
	if rs.SubnetGroups == nil {
		rs.SubnetGroups = n.SubnetGroups
	}
	if rs.ReplGroups == nil {
		rs.ReplGroups = n.ReplGroups
	}
	if rs.Vaults == nil {
		rs.Vaults = n.Vaults
	}
	if rs.RestoreJobs == nil {
		rs.RestoreJobs = n.RestoreJobs
	}
	if rs.FileSystems == nil {
		rs.FileSystems = n.FileSystems
	}
	if rs.Secrets == nil {
		rs.Secrets = n.Secrets
	}
	if rs.TaskDefs == nil {
		rs.TaskDefs = n.TaskDefs
	}
	if rs.Clusters == nil {
		rs.Clusters = n.Clusters
	}
	if rs.LoadBalancers == nil {
		rs.LoadBalancers = n.LoadBalancers
	}
	if rs.TargetGroups == nil {
		rs.TargetGroups = n.TargetGroups
	}
	if rs.Topics == nil {
		rs.Topics = n.Topics
	}
	if rs.OptionGroups == nil {
		rs.OptionGroups = n.OptionGroups
	}
}

// newWorld is an empty world in the given regions (the primary first) and account.
func newWorld(pair []string, account string) *world {
	w := &world{
		Pair:    slices.Clone(pair),
		Account: account,
		Regions: map[string]*regionState{},
		Zones:   map[string]*hostedZone{},
		Changes: map[string]*timeline{},
		Buckets: map[string]*bucket{},
		Alarms:  map[string]*alarm{},
	}
	for _, r := range pair {
		w.Regions[r] = newRegion()
	}
	return w
}

// holds says whether region is one of the world's.
func (w *world) holds(region string) bool { return w.Regions[region] != nil }

// octet is the region's number in the ids and addresses the world makes: 10 for the
// primary, 20 for the secondary (so vpc-00a..., 10.10.0.0/16 and vpc-014..., 10.20.0.0/16).
func (w *world) octet(region string) int { return 10 * (max(slices.Index(w.Pair, region), 0) + 1) }

// arn is the ARN of a resource of the world's account.
func (w *world) arn(service, region, rest string) string {
	return "arn:aws:" + service + ":" + region + ":" + w.Account + ":" + rest
}

// next returns a deterministic, increasing sequence number for ids.
func (w *world) next() int {
	w.Seq++
	return w.Seq
}

// phase is one step of a timeline: from At on, the resource has Status.
type phase struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
}

// timeline is a resource's statuses over time. Its status at t is the last phase that has
// started by t; the empty string means the resource does not exist (yet, or any more).
type timeline struct {
	Phases []phase `json:"phases"`
}

func (tl *timeline) at(t time.Time) string {
	st := ""
	for _, p := range tl.Phases {
		if !p.At.After(t) {
			st = p.Status
		}
	}
	return st
}

// then replaces everything after now with the given phases, spread over d: statuses[0] starts
// now, the last one starts at now+d, and the ones between split d by the given fractions.
func (tl *timeline) then(now time.Time, d time.Duration, statuses []string, fracs []float64) {
	keep := tl.Phases[:0]
	for _, p := range tl.Phases {
		if !p.At.After(now) {
			keep = append(keep, p)
		}
	}
	tl.Phases = keep
	for i, s := range statuses {
		at := now
		switch {
		case i == len(statuses)-1 && i > 0:
			at = now.Add(d)
		case i > 0 && i-1 < len(fracs):
			at = now.Add(time.Duration(float64(d) * fracs[i-1]))
		}
		tl.Phases = append(tl.Phases, phase{Status: s, At: at})
	}
}

func fixed(status string, at time.Time) timeline {
	return timeline{Phases: []phase{{Status: status, At: at}}}
}

// saveLocked writes the world to the state file, if any, atomically.
func (s *Sim) saveLocked() error {
	if s.opts.StateFile == "" {
		return nil
	}
	s.st.Credentials = s.order
	b, err := json.Marshal(s.st)
	if err != nil {
		return fmt.Errorf("awssim: encode state: %w", err)
	}
	tmp := s.opts.StateFile + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("awssim: write state: %w", err)
	}
	if err := os.Rename(tmp, s.opts.StateFile); err != nil {
		return fmt.Errorf("awssim: write state: %w", err)
	}
	return nil
}

// loadWorld reads a state file; a missing file is not an error (first start).
func loadWorld(path string) (*world, error) {
	b, err := os.ReadFile(filepath.Clean(path))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("awssim: read state: %w", err)
	}
	w := &world{}
	if err := json.Unmarshal(b, w); err != nil {
		return nil, fmt.Errorf("awssim: decode state %s: %w", path, err)
	}
	// A state file written before the world knew its pair and account holds the kaigo
	// world's two regions, which sort primary first, and the kaigo account.
	if len(w.Pair) == 0 {
		w.Pair = sortedKeys(w.Regions)
	}
	if len(w.Pair) == 0 {
		p, s := defaultPair()
		w.Pair = []string{p, s}
	}
	w.Account = cmp.Or(w.Account, AccountID)
	fresh := newWorld(nil, "")
	if w.Regions == nil {
		w.Regions = fresh.Regions
	}
	for _, r := range w.Pair {
		if w.Regions[r] == nil {
			w.Regions[r] = newRegion()
		}
		w.Regions[r].fill()
		for _, res := range w.Regions[r].EC2 {
			res.Owner = cmp.Or(res.Owner, w.Account)
		}
	}
	if w.Zones == nil {
		w.Zones = fresh.Zones
	}
	if w.Changes == nil {
		w.Changes = fresh.Changes
	}
	if w.Buckets == nil {
		w.Buckets = fresh.Buckets
	}
	if w.Alarms == nil {
		w.Alarms = fresh.Alarms
	}
	return w, nil
}
