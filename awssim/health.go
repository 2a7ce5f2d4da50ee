package awssim

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"
)

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

var healthOps = map[string]jsonOp{"DescribeEvents": healthDescribeEvents}

// healthPageLimits: maxResults is "between 1 and 100, inclusive" (API reference,
// DescribeEvents; botocore model health/2016-08-04, shape maxResultsLowerRange). AWS
// documents no default page size; without maxResults awssim answers every event at once.
var healthPageLimits = pageLimits{min: 1, max: 100}

// healthDescribeEvents answers DescribeEvents, "sorted by lastModifiedTime, starting with
// the most recent event" (API reference), in pages of maxResults with a nextToken while
// more remain. A nextToken Health did not issue is InvalidPaginationToken, "The specified
// pagination token (nextToken) is not valid", HTTP 400 (API reference, DescribeEvents
// Errors; the botocore model gives the exception no other status).
func healthDescribeEvents(c *call) (any, error) {
	var in struct {
		Filter struct {
			Regions             []string `json:"regions"`
			Services            []string `json:"services"`
			EventTypeCodes      []string `json:"eventTypeCodes"`
			EventTypeCategories []string `json:"eventTypeCategories"`
			EventStatusCodes    []string `json:"eventStatusCodes"`
		} `json:"filter"`
		NextToken  string          `json:"nextToken"`
		MaxResults json.RawMessage `json:"maxResults"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	size := ""
	if len(in.MaxResults) > 0 && string(in.MaxResults) != "null" {
		size = string(in.MaxResults)
	}
	pg, err := parsePage(size, in.NextToken, healthPageLimits,
		func(v string) error {
			return badRequest("ValidationException", "1 validation error detected: Value '%s' at 'maxResults' failed to satisfy constraint: "+
				"Member must have value between %d and %d", v, healthPageLimits.min, healthPageLimits.max)
		},
		func(string) error {
			return badRequest("InvalidPaginationToken", "The specified pagination token (nextToken) is not valid.")
		})
	if err != nil {
		return nil, err
	}
	f := in.Filter
	type row struct {
		key string
		ev  map[string]any
	}
	var rows []row
	for _, ev := range c.s.st.Health {
		status := "open"
		if !ev.End.IsZero() {
			status = "closed"
		}
		if !in1(f.Regions, ev.Region) || !in1(f.Services, ev.Service) || !in1(f.EventTypeCodes, ev.TypeCode) ||
			!in1(f.EventTypeCategories, ev.Category) || !in1(f.EventStatusCodes, status) {
			continue
		}
		updated := ev.Start
		e := map[string]any{"arn": ev.ARN, "service": ev.Service, "eventTypeCode": ev.TypeCode,
			"eventTypeCategory": ev.Category, "region": ev.Region,
			"startTime": epoch(ev.Start), "statusCode": status, "eventScopeCode": "PUBLIC"}
		if !ev.End.IsZero() {
			e["endTime"] = epoch(ev.End)
			updated = ev.End
		}
		e["lastUpdatedTime"] = epoch(updated)
		// Newest first: the key counts down as lastUpdatedTime grows, and the ARN breaks ties.
		rows = append(rows, row{fmt.Sprintf("%020d %s", math.MaxInt64-updated.UnixNano(), ev.ARN), e})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].key < rows[j].key })
	page, next := pageOf(rows, func(r row) string { return r.key }, pg)
	events := make([]any, len(page))
	for i, r := range page {
		events[i] = r.ev
	}
	out := map[string]any{"events": events}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

// in1 is true when the filter is empty or holds v.
func in1(filter []string, v string) bool { return len(filter) == 0 || slices.Contains(filter, v) }
