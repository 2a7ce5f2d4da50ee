package awssim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

type alarm struct {
	Region      string      `json:"region"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Metric      string      `json:"metric"`
	Namespace   string      `json:"namespace"`
	Statistic   string      `json:"statistic"`
	Period      int64       `json:"period"`
	Evaluations int64       `json:"evaluations"`
	Threshold   float64     `json:"threshold"`
	Comparison  string      `json:"comparison"`
	Dimensions  [][2]string `json:"dimensions"`
	Actions     []string    `json:"actions"`
	Updated     time.Time   `json:"updated"`
}

// cloudwatchOps are the CloudWatch operations, written against CBOR values; the awsQuery and
// awsJson1_0 front ends below translate into them.
var cloudwatchOps = map[string]cborOp{
	"PutMetricAlarm": cwPut,
	"DescribeAlarms": cwDescribe,
	"DeleteAlarms":   cwDelete,
}

func cborStr(m cbor.Map, k string) string {
	if s, ok := m[k].(cbor.String); ok {
		return string(s)
	}
	return ""
}

func cborList(m cbor.Map, k string) cbor.List {
	l, _ := m[k].(cbor.List)
	return l
}

var comparisons = map[string]bool{
	"GreaterThanOrEqualToThreshold": true, "GreaterThanThreshold": true, "LessThanThreshold": true,
	"LessThanOrEqualToThreshold": true, "LessThanLowerOrGreaterThanUpperThreshold": true,
	"LessThanLowerThreshold": true, "GreaterThanUpperThreshold": true,
}

func cwPut(c *call, in cbor.Map) (cbor.Map, error) {
	a := &alarm{Region: c.region, Name: cborStr(in, "AlarmName"), Description: cborStr(in, "AlarmDescription"),
		Metric: cborStr(in, "MetricName"), Namespace: cborStr(in, "Namespace"), Statistic: cborStr(in, "Statistic"),
		Comparison: cborStr(in, "ComparisonOperator"), Updated: c.now}
	if a.Name == "" {
		return nil, badRequest("MissingParameter", "The parameter AlarmName is required.")
	}
	if a.Comparison == "" {
		return nil, badRequest("MissingParameter", "The parameter ComparisonOperator is required.")
	}
	if !comparisons[a.Comparison] {
		return nil, badRequest("ValidationError", "Invalid ComparisonOperator %q", a.Comparison)
	}
	var err error
	if v, ok := in["EvaluationPeriods"]; ok {
		if a.Evaluations, err = cbor.AsInt64(v); err != nil {
			return nil, badRequest("ValidationError", "EvaluationPeriods: %v", err)
		}
	} else {
		return nil, badRequest("MissingParameter", "The parameter EvaluationPeriods is required.")
	}
	if v, ok := in["Period"]; ok {
		if a.Period, err = cbor.AsInt64(v); err != nil {
			return nil, badRequest("ValidationError", "Period: %v", err)
		}
	}
	if v, ok := in["Threshold"]; ok {
		if a.Threshold, err = cbor.AsFloat64(v); err != nil {
			return nil, badRequest("ValidationError", "Threshold: %v", err)
		}
		// NaN and ±Inf (CBOR floats, "NaN" in a query form, 1e400 in JSON) are no threshold,
		// and no JSON encoder could write the alarm back out.
		if math.IsNaN(a.Threshold) || math.IsInf(a.Threshold, 0) {
			return nil, badRequest("ValidationError", "The value %v for parameter Threshold is invalid: it must be a finite number.", a.Threshold)
		}
	}
	for _, d := range cborList(in, "Dimensions") {
		if dm, ok := d.(cbor.Map); ok {
			a.Dimensions = append(a.Dimensions, [2]string{cborStr(dm, "Name"), cborStr(dm, "Value")})
		}
	}
	for _, v := range cborList(in, "AlarmActions") {
		if s, ok := v.(cbor.String); ok {
			a.Actions = append(a.Actions, string(s))
		}
	}
	c.s.st.Alarms[c.region+"/"+a.Name] = a
	c.journal(a.Name)
	return cbor.Map{}, nil
}

// cwDelete deletes the named alarms of the caller's region. A name with no alarm is
// skipped without error, as CloudWatch does; each alarm actually deleted is journaled, so a
// call that deleted nothing leaves no entry.
func cwDelete(c *call, in cbor.Map) (cbor.Map, error) {
	var names []string
	for _, v := range cborList(in, "AlarmNames") {
		s, ok := v.(cbor.String)
		if !ok || s == "" {
			return nil, badRequest("ValidationError", "AlarmNames must be a list of non-empty strings.")
		}
		names = append(names, string(s))
	}
	if len(names) == 0 {
		return nil, badRequest("MissingParameter", "The parameter AlarmNames is required.")
	}
	if len(names) > 100 {
		return nil, badRequest("ValidationError", "AlarmNames may hold at most 100 names, got %d.", len(names))
	}
	for _, n := range names {
		k := c.region + "/" + n
		if _, ok := c.s.st.Alarms[k]; ok {
			delete(c.s.st.Alarms, k)
			c.journal(n)
		}
	}
	return cbor.Map{}, nil
}

func cborTime(t time.Time) cbor.Value {
	return &cbor.Tag{ID: 1, Value: cbor.Float64(epoch(t))}
}

func cwDescribe(c *call, in cbor.Map) (cbor.Map, error) {
	names := map[string]bool{}
	for _, v := range cborList(in, "AlarmNames") {
		if s, ok := v.(cbor.String); ok {
			names[string(s)] = true
		}
	}
	prefix, state := cborStr(in, "AlarmNamePrefix"), cborStr(in, "StateValue")
	if state != "" && state != "INSUFFICIENT_DATA" {
		return cbor.Map{"MetricAlarms": cbor.List{}, "CompositeAlarms": cbor.List{}}, nil
	}
	out := cbor.List{}
	for _, k := range sortedKeys(c.s.st.Alarms) {
		a := c.s.st.Alarms[k]
		if a.Region != c.region || len(names) > 0 && !names[a.Name] || !strings.HasPrefix(a.Name, prefix) {
			continue
		}
		dims := cbor.List{}
		for _, d := range a.Dimensions {
			dims = append(dims, cbor.Map{"Name": cbor.String(d[0]), "Value": cbor.String(d[1])})
		}
		acts := cbor.List{}
		for _, s := range a.Actions {
			acts = append(acts, cbor.String(s))
		}
		m := cbor.Map{
			"AlarmName":                          cbor.String(a.Name),
			"AlarmArn":                           cbor.String(c.arn("cloudwatch", a.Region, "alarm:"+a.Name)),
			"AlarmConfigurationUpdatedTimestamp": cborTime(a.Updated),
			"ActionsEnabled":                     cbor.Bool(true),
			"AlarmActions":                       acts,
			"StateValue":                         cbor.String("INSUFFICIENT_DATA"),
			"StateReason":                        cbor.String("Unchecked: Initial alarm creation"),
			"StateUpdatedTimestamp":              cborTime(a.Updated),
			"Dimensions":                         dims,
			"Period":                             cbor.Uint(max(a.Period, 0)),
			"EvaluationPeriods":                  cbor.Uint(max(a.Evaluations, 0)),
			"Threshold":                          cbor.Float64(a.Threshold),
			"ComparisonOperator":                 cbor.String(a.Comparison),
		}
		for k, v := range map[string]string{"AlarmDescription": a.Description, "MetricName": a.Metric, "Namespace": a.Namespace, "Statistic": a.Statistic} {
			if v != "" {
				m[k] = cbor.String(v)
			}
		}
		out = append(out, m)
	}
	return cbor.Map{"MetricAlarms": out, "CompositeAlarms": cbor.List{}}, nil
}

// CloudWatch also speaks awsQuery: the AWS CLI v2 that Debian ships (2.9) and older SDKs use
// it, and the seed runbook's step 11 is such a CLI call. Both protocols share the handlers
// above; queryToCBOR and cborXML translate at the edge.
var cloudwatchQueryOps = map[string]queryOp{
	"PutMetricAlarm": func(c *call, p url.Values) ([]xn, error) {
		_, err := cwPut(c, queryToCBOR(p))
		return nil, err
	},
	"DeleteAlarms": func(c *call, p url.Values) ([]xn, error) {
		_, err := cwDelete(c, queryToCBOR(p))
		return nil, err
	},
	"DescribeAlarms": func(c *call, p url.Values) ([]xn, error) {
		m, err := cwDescribe(c, queryToCBOR(p))
		if err != nil {
			return nil, err
		}
		return []xn{cborXML("MetricAlarms", m["MetricAlarms"]), cborXML("CompositeAlarms", m["CompositeAlarms"])}, nil
	},
}

var cwIntParams = map[string]bool{"Period": true, "EvaluationPeriods": true, "DatapointsToAlarm": true, "MaxRecords": true}

func queryToCBOR(p url.Values) cbor.Map {
	m := cbor.Map{}
	for k, vs := range p {
		if strings.Contains(k, ".") || len(vs) == 0 {
			continue
		}
		v := vs[0]
		switch {
		case cwIntParams[k]:
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
				m[k] = cbor.Uint(n)
			} else {
				m[k] = cbor.String(v) // AsInt64 rejects it: a ValidationError, as AWS gives
			}
		case k == "Threshold":
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				m[k] = cbor.Float64(f)
			} else {
				m[k] = cbor.String(v)
			}
		default:
			m[k] = cbor.String(v)
		}
	}
	for _, k := range []string{"AlarmNames", "AlarmActions", "OKActions", "InsufficientDataActions"} {
		if vals := listParam(p, k); len(vals) > 0 {
			l := cbor.List{}
			for _, v := range vals {
				l = append(l, cbor.String(v))
			}
			m[k] = l
		}
	}
	dims := cbor.List{}
	for i := 1; i <= 30; i++ {
		name := p.Get(fmt.Sprintf("Dimensions.member.%d.Name", i))
		if name == "" {
			break
		}
		dims = append(dims, cbor.Map{"Name": cbor.String(name), "Value": cbor.String(p.Get(fmt.Sprintf("Dimensions.member.%d.Value", i)))})
	}
	if len(dims) > 0 {
		m["Dimensions"] = dims
	}
	return m
}

// cborXML renders a CBOR value as awsQuery XML: lists use "member", timestamps ISO 8601.
func cborXML(name string, v cbor.Value) xn {
	switch vv := v.(type) {
	case cbor.Map:
		var kids []xn
		for _, k := range sortedKeys(vv) {
			kids = append(kids, cborXML(k, vv[k]))
		}
		return el(name, kids...)
	case cbor.List:
		kids := make([]xn, len(vv))
		for i, x := range vv {
			kids[i] = cborXML("member", x)
		}
		return el(name, kids...)
	case cbor.String:
		return tx(name, string(vv))
	case cbor.Uint:
		return tx(name, strconv.FormatUint(uint64(vv), 10))
	case cbor.Float64:
		return tx(name, strconv.FormatFloat(float64(vv), 'f', -1, 64))
	case cbor.Bool:
		return bl(name, bool(vv))
	case *cbor.Tag:
		if f, ok := vv.Value.(cbor.Float64); ok && vv.ID == 1 {
			sec := float64(f)
			return tx(name, isoTime(time.UnixMilli(int64(sec*1000))))
		}
	}
	return xn{}
}

func cloudwatchProtocol() protocol {
	cb := cborProtocol(cloudwatchOps)
	js := cloudwatchJSON()
	q := queryProtocol(cloudwatchQueryOps, "http://monitoring.amazonaws.com/doc/2010-08-01/")
	// A client names its protocol by headers: rpcv2Cbor by Smithy-Protocol (and its
	// /operation/ path), awsJson1_0 by X-Amz-Target or its Content-Type, so a JSON request
	// with a blank or missing target still gets a JSON error; anything else is a form.
	pick := func(c *call) protocol {
		switch {
		case c.r.Header.Get("Smithy-Protocol") != "" || strings.Contains(c.r.URL.Path, "/operation/"):
			return cb
		case c.r.Header.Get("X-Amz-Target") != "" || strings.HasPrefix(c.r.Header.Get("Content-Type"), "application/x-amz-json-1.0"):
			return js
		}
		return q
	}
	return protocol{
		operation:  func(c *call) string { return pick(c).operation(c) },
		dispatch:   func(c *call) (any, error) { return pick(c).dispatch(c) },
		writeOK:    func(w http.ResponseWriter, c *call, out any) { pick(c).writeOK(w, c, out) },
		writeError: func(w http.ResponseWriter, c *call, e *apiError) { pick(c).writeError(w, c, e) },
	}
}

// jsonToCBOR turns an awsJson1_0 CloudWatch body into the CBOR shape the handlers read.
func jsonToCBOR(v any) cbor.Value {
	switch vv := v.(type) {
	case map[string]any:
		m := cbor.Map{}
		for k, x := range vv {
			m[k] = jsonToCBOR(x)
		}
		return m
	case []any:
		l := cbor.List{}
		for _, x := range vv {
			l = append(l, jsonToCBOR(x))
		}
		return l
	case json.Number:
		if n, err := strconv.ParseInt(string(vv), 10, 64); err == nil {
			if n < 0 {
				return cbor.NegInt(uint64(-n))
			}
			return cbor.Uint(n)
		}
		f, _ := vv.Float64()
		return cbor.Float64(f)
	case string:
		return cbor.String(vv)
	case bool:
		return cbor.Bool(vv)
	}
	return &cbor.Nil{}
}

// cborJSON is the reverse, for awsJson1_0 responses; timestamps become epoch seconds.
func cborJSON(v cbor.Value) any {
	switch vv := v.(type) {
	case cbor.Map:
		m := map[string]any{}
		for k, x := range vv {
			m[k] = cborJSON(x)
		}
		return m
	case cbor.List:
		l := make([]any, len(vv))
		for i, x := range vv {
			l[i] = cborJSON(x)
		}
		return l
	case cbor.String:
		return string(vv)
	case cbor.Uint:
		return uint64(vv)
	case cbor.Float64:
		return float64(vv)
	case cbor.Bool:
		return bool(vv)
	case *cbor.Tag:
		return cborJSON(vv.Value)
	}
	return nil
}

// cloudwatchJSON is CloudWatch's awsJson1_0 protocol (X-Amz-Target
// GraniteServiceVersion20100801.<Op>), which newer AWS CLI releases use.
func cloudwatchJSON() protocol {
	p := jsonProtocol(map[string]jsonOp{})
	p.dispatch = func(c *call) (any, error) {
		fn, ok := cloudwatchOps[c.op]
		if !ok {
			return nil, badRequest("UnknownOperationException", "Unknown operation %q", c.r.Header.Get("X-Amz-Target"))
		}
		in := cbor.Map{}
		if len(bytes.TrimSpace(c.body)) > 0 {
			dec := json.NewDecoder(bytes.NewReader(c.body))
			dec.UseNumber()
			var v map[string]any
			if err := dec.Decode(&v); err != nil {
				return nil, badRequest("SerializationException", "Could not parse request body: %v", err)
			}
			in, _ = jsonToCBOR(v).(cbor.Map)
		}
		out, err := fn(c, in)
		if err != nil {
			return nil, err
		}
		return cborJSON(out), nil
	}
	p.writeOK = func(w http.ResponseWriter, c *call, out any) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("X-Amzn-RequestId", c.reqID)
		w.WriteHeader(http.StatusOK)
		_ = json.NewEncoder(w).Encode(out)
	}
	p.writeError = func(w http.ResponseWriter, c *call, e *apiError) {
		fault := "Sender"
		if e.Status >= 500 {
			fault = "Receiver"
		}
		w.Header().Set("X-Amzn-Query-Error", e.Code+";"+fault)
		writeJSONError(w, c, e)
	}
	return p
}
