package awssim

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
)

type hostedZone struct {
	ID      string       `json:"id"`
	Name    string       `json:"name"`
	Records []*recordSet `json:"records"`
}

type recordSet struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"`
	TTL         int      `json:"ttl"`
	Values      []string `json:"values"`
	AliasZone   string   `json:"aliasZone"`
	AliasDNS    string   `json:"aliasDNS"`
	AliasHealth bool     `json:"aliasHealth"`
}

const route53NS = "https://route53.amazonaws.com/doc/2013-04-01/"

// route53Routes are the Route 53 operations (restXml). Changes apply at once and report
// PENDING until the DNS duration has passed, then INSYNC.
var route53Routes = []route{
	{"GET", "/2013-04-01/hostedzone/{id}/rrset", "ListResourceRecordSets", r53List},
	{"POST", "/2013-04-01/hostedzone/{id}/rrset", "ChangeResourceRecordSets", r53Change},
	{"GET", "/2013-04-01/change/{id}", "GetChange", r53GetChange},
	{"GET", "/2013-04-01/testdnsanswer", "TestDNSAnswer", r53Test},
}

// xmlRoot is a restXml response: the root element and its children.
type xmlRoot struct {
	name string
	kids []xn
}

func route53Protocol() protocol {
	return restProtocol(route53Routes, func(w http.ResponseWriter, c *call, out any) {
		x, _ := out.(xmlRoot)
		w.Header().Set("X-Amzn-RequestId", c.reqID)
		writeXML(w, http.StatusOK, x.name, route53NS, x.kids)
	}, func(w http.ResponseWriter, c *call, e *apiError) {
		w.Header().Set("X-Amzn-RequestId", c.reqID)
		if e.Code == "InvalidChangeBatch" {
			writeXML(w, e.Status, "InvalidChangeBatch", route53NS, []xn{
				strList("Messages", "Message", strings.Split(e.Message, "\n")), tx("RequestId", c.reqID)})
			return
		}
		typ := "Sender"
		if e.Status >= 500 {
			typ = "Receiver"
		}
		writeXML(w, e.Status, "ErrorResponse", route53NS, []xn{
			el("Error", tx("Type", typ), tx("Code", e.Code), tx("Message", e.Message)), tx("RequestId", c.reqID)})
	})
}

func (c *call) zone(id string) (*hostedZone, error) {
	id = strings.TrimPrefix(id, "/hostedzone/")
	z := c.s.st.Zones[id]
	if z == nil {
		return nil, notFound("NoSuchHostedZone", "No hosted zone found with ID: %s", id)
	}
	return z, nil
}

func fqdn(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}

func recordXML(r *recordSet) xn {
	kids := []xn{tx("Name", r.Name), tx("Type", r.Type)}
	if r.AliasDNS != "" {
		kids = append(kids, el("AliasTarget", tx("HostedZoneId", r.AliasZone), tx("DNSName", r.AliasDNS), bl("EvaluateTargetHealth", r.AliasHealth)))
	} else {
		kids = append(kids, it("TTL", r.TTL), strListNested(r.Values))
	}
	return el("ResourceRecordSet", kids...)
}

func strListNested(vals []string) xn {
	items := make([]xn, len(vals))
	for i, v := range vals {
		items[i] = el("ResourceRecord", tx("Value", v))
	}
	return el("ResourceRecords", items...)
}

func r53List(c *call, p map[string]string) (any, error) {
	z, err := c.zone(p["id"])
	if err != nil {
		return nil, err
	}
	q := c.r.URL.Query()
	start, typ := q.Get("name"), q.Get("type")
	if typ != "" && start == "" {
		return nil, badRequest("InvalidInput", "The input is not valid: type requires name.")
	}
	var items []xn
	for _, r := range z.Records {
		if start != "" && (r.Name < fqdn(start) || r.Name == fqdn(start) && typ != "" && r.Type < typ) {
			continue
		}
		items = append(items, recordXML(r))
	}
	return xmlRoot{"ListResourceRecordSetsResponse", []xn{
		el("ResourceRecordSets", items...), bl("IsTruncated", false), tx("MaxItems", "300")}}, nil
}

// changeBatch is the ChangeResourceRecordSets request body.
type changeBatch struct {
	XMLName xml.Name `xml:"ChangeResourceRecordSetsRequest"`
	Batch   struct {
		Comment string `xml:"Comment"`
		Changes []struct {
			Action string `xml:"Action"`
			RRSet  struct {
				Name            string   `xml:"Name"`
				Type            string   `xml:"Type"`
				TTL             *int     `xml:"TTL"`
				ResourceRecords []string `xml:"ResourceRecords>ResourceRecord>Value"`
				AliasTarget     *struct {
					HostedZoneID string `xml:"HostedZoneId"`
					DNSName      string `xml:"DNSName"`
					Evaluate     bool   `xml:"EvaluateTargetHealth"`
				} `xml:"AliasTarget"`
			} `xml:"ResourceRecordSet"`
		} `xml:"Changes>Change"`
	} `xml:"ChangeBatch"`
}

func (c *call) changeInfo(id string, tl *timeline, comment string) xn {
	return el("ChangeInfo", tx("Id", "/change/"+id), tx("Status", tl.at(c.now)),
		tx("SubmittedAt", isoTime(tl.Phases[0].At)), opt("Comment", comment))
}

func r53Change(c *call, p map[string]string) (any, error) {
	z, err := c.zone(p["id"])
	if err != nil {
		return nil, err
	}
	var cb changeBatch
	if err := xml.Unmarshal(c.body, &cb); err != nil {
		return nil, badRequest("InvalidInput", "Invalid XML: %v", err)
	}
	if len(cb.Batch.Changes) == 0 {
		return nil, badRequest("InvalidInput", "1 validation error detected: Value null at 'changeBatch.changes' failed to satisfy constraint: Member must not be null")
	}
	// Validate the whole batch against a copy first: Route 53 applies all or nothing.
	recs := append([]*recordSet(nil), z.Records...)
	var msgs []string
	seen := map[string]bool{}
	for _, ch := range cb.Batch.Changes {
		rr := ch.RRSet
		name, typ := fqdn(rr.Name), strings.ToUpper(rr.Type)
		switch ch.Action {
		case "CREATE", "UPSERT", "DELETE":
		default:
			return nil, badRequest("InvalidInput", "Invalid request: Expected one of CREATE, DELETE, UPSERT but found %q", ch.Action)
		}
		if rr.Name == "" || typ == "" {
			return nil, badRequest("InvalidInput", "Invalid request: ResourceRecordSet requires Name and Type")
		}
		key := name + " " + typ
		if seen[key] {
			msgs = append(msgs, fmt.Sprintf("The request contains more than one change for resource record set [name='%s', type='%s']", name, typ))
			continue
		}
		seen[key] = true
		if name != z.Name && !strings.HasSuffix(name, "."+z.Name) {
			msgs = append(msgs, fmt.Sprintf("RRSet with DNS name %s is not permitted in zone %s", name, z.Name))
			continue
		}
		rs := &recordSet{Name: name, Type: typ, Values: rr.ResourceRecords}
		if rr.TTL != nil {
			rs.TTL = *rr.TTL
		}
		if a := rr.AliasTarget; a != nil {
			if rr.TTL != nil || len(rr.ResourceRecords) > 0 {
				msgs = append(msgs, fmt.Sprintf("Alias target and TTL or records both specified for [name='%s', type='%s']", name, typ))
				continue
			}
			rs.AliasZone, rs.AliasDNS, rs.AliasHealth = a.HostedZoneID, fqdn(a.DNSName), a.Evaluate
			if strings.HasSuffix(rs.AliasDNS, ".elb.amazonaws.com.") && c.s.albByDNS(rs.AliasDNS) == nil {
				msgs = append(msgs, fmt.Sprintf("Tried to create an alias that targets %s, type %s in zone %s, but the alias target name does not lie within the target zone", rs.AliasDNS, typ, a.HostedZoneID))
				continue
			}
		} else if ch.Action != "DELETE" && (len(rr.ResourceRecords) == 0 || rr.TTL == nil) {
			return nil, badRequest("InvalidInput", "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with [Action=%s, Name=%s, Type=%s]", ch.Action, name, typ)
		}
		idx := -1
		for i, r := range recs {
			if r.Name == name && r.Type == typ {
				idx = i
			}
		}
		switch {
		case ch.Action == "CREATE" && idx >= 0:
			msgs = append(msgs, fmt.Sprintf("Tried to create resource record set [name='%s', type='%s'] but it already exists", name, typ))
		case ch.Action == "DELETE" && idx < 0:
			msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set [name='%s', type='%s'] but it was not found", name, typ))
		case ch.Action == "DELETE":
			recs = append(recs[:idx], recs[idx+1:]...)
		case idx >= 0:
			recs[idx] = rs
		default:
			recs = append(recs, rs)
		}
	}
	if len(msgs) > 0 {
		return nil, badRequest("InvalidChangeBatch", "%s", strings.Join(msgs, "\n"))
	}
	z.Records = recs
	id := fmt.Sprintf("C%013d", c.s.st.next())
	tl := &timeline{}
	tl.then(c.now, c.s.dur(c.service, OpChangeRecordSets), []string{"PENDING", "INSYNC"}, nil)
	c.s.st.Changes[id] = tl
	c.journal(z.ID + "/" + cb.Batch.Changes[0].RRSet.Name)
	return xmlRoot{"ChangeResourceRecordSetsResponse", []xn{c.changeInfo(id, tl, cb.Batch.Comment)}}, nil
}

func r53GetChange(c *call, p map[string]string) (any, error) {
	id := strings.TrimPrefix(p["id"], "/change/")
	tl := c.s.st.Changes[id]
	if tl == nil {
		return nil, notFound("NoSuchChange", "A change with the specified change ID does not exist.")
	}
	return xmlRoot{"GetChangeResponse", []xn{c.changeInfo(id, tl, "")}}, nil
}

// resolve answers a name the way the simulated DNS would: records' values, or for an alias to
// an ALB a stable address derived from the ALB (so a switch is visible in the answer).
func (s *Sim) resolve(name, typ string) (values []string, alias string, ok bool) {
	name = fqdn(name)
	for _, z := range s.st.Zones {
		for _, r := range z.Records {
			if r.Name != name || r.Type != typ {
				continue
			}
			if r.AliasDNS != "" {
				if lb := s.albByDNS(r.AliasDNS); lb != nil {
					return []string{lbAddress(lb.region)}, r.AliasDNS, true
				}
				return nil, r.AliasDNS, true
			}
			return r.Values, "", true
		}
	}
	return nil, "", false
}

func lbAddress(region string) string {
	if region == "us-west-2" {
		return "198.51.100.20"
	}
	return "192.0.2.10"
}

type regionLB struct {
	*loadBalancer
	region string
}

func (s *Sim) albByDNS(dns string) *regionLB {
	dns = strings.TrimSuffix(strings.ToLower(dns), ".")
	dns = strings.TrimPrefix(dns, "dualstack.")
	for _, region := range regions {
		for _, lb := range s.st.Regions[region].LoadBalancers {
			if strings.ToLower(lb.DNS) == dns {
				return &regionLB{lb, region}
			}
		}
	}
	return nil
}

func r53Test(c *call, _ map[string]string) (any, error) {
	q := c.r.URL.Query()
	zid, name, typ := q.Get("hostedzoneid"), q.Get("recordname"), q.Get("recordtype")
	if zid == "" || name == "" || typ == "" {
		return nil, badRequest("InvalidInput", "hostedzoneid, recordname and recordtype are required")
	}
	if _, err := c.zone(zid); err != nil {
		return nil, err
	}
	vals, _, ok := c.s.resolve(name, typ)
	code := "NOERROR"
	if !ok {
		code = "NXDOMAIN"
	}
	return xmlRoot{"TestDNSAnswerResponse", []xn{tx("Nameserver", "ns-1.awsdns-sim.org"), tx("RecordName", fqdn(name)),
		tx("RecordType", typ), strList("RecordData", "RecordDataEntry", vals), tx("ResponseCode", code), tx("Protocol", "UDP")}}, nil
}
