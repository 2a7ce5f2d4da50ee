package awssim

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/smithy-go/encoding/cbor"
)

// xn is an XML node. A node with an empty name is skipped, which keeps optional fields terse.
type xn struct {
	name string
	text string
	leaf bool
	kids []xn
}

func el(name string, kids ...xn) xn { return xn{name: name, kids: kids} }
func tx(name, v string) xn          { return xn{name: name, text: v, leaf: true} }
func bl(name string, v bool) xn     { return tx(name, strconv.FormatBool(v)) }
func it(name string, v int) xn      { return tx(name, strconv.Itoa(v)) }

// opt is tx, or nothing when v is empty.
func opt(name, v string) xn {
	if v == "" {
		return xn{}
	}
	return tx(name, v)
}

// list wraps items, renaming each to member: the member names must match what the SDK's
// deserializer looks for (DBInstance, member, item, ...).
func list(name, member string, items []xn) xn {
	out := make([]xn, len(items))
	for i, x := range items {
		x.name = member
		out[i] = x
	}
	return el(name, out...)
}

func strList(name, member string, vals []string) xn {
	items := make([]xn, len(vals))
	for i, v := range vals {
		items[i] = tx(member, v)
	}
	return el(name, items...)
}

func (x xn) write(b *bytes.Buffer) {
	if x.name == "" {
		return
	}
	b.WriteByte('<')
	b.WriteString(x.name)
	b.WriteByte('>')
	if x.leaf {
		_ = xml.EscapeText(b, []byte(x.text))
	}
	for _, k := range x.kids {
		k.write(b)
	}
	b.WriteString("</")
	b.WriteString(x.name)
	b.WriteByte('>')
}

func writeXML(w http.ResponseWriter, status int, root string, ns string, kids []xn) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString("<" + root)
	if ns != "" {
		b.WriteString(` xmlns="` + ns + `"`)
	}
	b.WriteString(">")
	for _, k := range kids {
		k.write(&b)
	}
	b.WriteString("</" + root + ">")
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// queryOp handles one awsQuery/ec2Query action; it returns the children of the Result element.
type queryOp func(c *call, p url.Values) ([]xn, error)

// form parses an awsQuery body; the URL query is merged in because some clients use GET.
func (c *call) form() url.Values {
	v, err := url.ParseQuery(string(c.body))
	if err != nil {
		v = url.Values{}
	}
	for k, vs := range c.r.URL.Query() {
		if _, ok := v[k]; !ok {
			v[k] = vs
		}
	}
	return v
}

func queryProtocol(ops map[string]queryOp, ns string) protocol {
	return protocol{
		operation: func(c *call) string { return c.form().Get("Action") },
		dispatch: func(c *call) (any, error) {
			if c.op == "" {
				return nil, badRequest("MissingAction", "Missing Action")
			}
			fn, ok := ops[c.op]
			if !ok {
				return nil, badRequest("InvalidAction", "The action %s is not valid for this web service.", c.op)
			}
			return fn(c, c.form())
		},
		writeOK: func(w http.ResponseWriter, c *call, out any) {
			kids, _ := out.([]xn)
			writeXML(w, http.StatusOK, c.op+"Response", ns, []xn{
				el(c.op+"Result", kids...),
				el("ResponseMetadata", tx("RequestId", c.reqID)),
			})
		},
		writeError: func(w http.ResponseWriter, c *call, e *apiError) {
			typ := "Sender"
			if e.Status >= 500 {
				typ = "Receiver"
			}
			writeXML(w, e.Status, "ErrorResponse", ns, []xn{
				el("Error", tx("Type", typ), tx("Code", e.Code), tx("Message", e.Message)),
				tx("RequestId", c.reqID),
			})
		},
	}
}

func ec2Protocol(ops map[string]queryOp) protocol {
	const ns = "http://ec2.amazonaws.com/doc/2016-11-15/"
	p := queryProtocol(ops, ns)
	p.writeOK = func(w http.ResponseWriter, c *call, out any) {
		kids, _ := out.([]xn)
		writeXML(w, http.StatusOK, c.op+"Response", ns, append([]xn{tx("requestId", c.reqID)}, kids...))
	}
	p.writeError = func(w http.ResponseWriter, c *call, e *apiError) {
		writeXML(w, e.Status, "Response", "", []xn{
			el("Errors", el("Error", tx("Code", e.Code), tx("Message", e.Message))),
			tx("RequestID", c.reqID),
		})
	}
	return p
}

// jsonOp handles one awsJson1_1 operation; it decodes c.body itself with decodeJSON.
type jsonOp func(c *call) (any, error)

// decodeJSON decodes an awsJson/restJson body into v. An empty body is an empty object,
// as the SDKs send for operations without input members.
func decodeJSON(c *call, v any) error {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		return badRequest("SerializationException", "Could not parse request body: %v", err)
	}
	return nil
}

func jsonProtocol(ops map[string]jsonOp) protocol {
	return protocol{
		operation: func(c *call) string {
			t := c.r.Header.Get("X-Amz-Target")
			if i := strings.LastIndexByte(t, '.'); i >= 0 {
				return t[i+1:]
			}
			return ""
		},
		dispatch: func(c *call) (any, error) {
			fn, ok := ops[c.op]
			if !ok {
				return nil, badRequest("UnknownOperationException", "Unknown operation %q", c.r.Header.Get("X-Amz-Target"))
			}
			return fn(c)
		},
		writeOK: func(w http.ResponseWriter, c *call, out any) {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.Header().Set("X-Amzn-RequestId", c.reqID)
			w.WriteHeader(http.StatusOK)
			_ = json.NewEncoder(w).Encode(out)
		},
		writeError: writeJSONError,
	}
}

// route is one REST operation. Pattern segments in braces bind path parameters; a trailing
// "?key" requires that query key (S3 sub-resources).
type route struct {
	method  string
	pattern string
	op      string
	fn      func(c *call, p map[string]string) (any, error)
}

func matchRoute(routes []route, r *http.Request) (route, map[string]string, bool) {
	path := strings.Trim(r.URL.EscapedPath(), "/")
	segs := strings.Split(path, "/")
	for _, rt := range routes {
		if rt.method != r.Method {
			continue
		}
		pat, q, _ := strings.Cut(rt.pattern, "?")
		if q != "" && !r.URL.Query().Has(q) {
			continue
		}
		psegs := strings.Split(strings.Trim(pat, "/"), "/")
		if len(psegs) != len(segs) {
			continue
		}
		params := map[string]string{}
		ok := true
		for i, ps := range psegs {
			if strings.HasPrefix(ps, "{") {
				v, err := url.PathUnescape(segs[i])
				if err != nil || v == "" {
					ok = false
					break
				}
				params[strings.Trim(ps, "{}")] = v
			} else if ps != segs[i] {
				ok = false
				break
			}
		}
		if ok {
			return rt, params, true
		}
	}
	return route{}, nil, false
}

func restProtocol(routes []route, writeOK func(http.ResponseWriter, *call, any), writeError func(http.ResponseWriter, *call, *apiError)) protocol {
	return protocol{
		operation: func(c *call) string {
			rt, _, ok := matchRoute(routes, c.r)
			if !ok {
				return ""
			}
			return rt.op
		},
		dispatch: func(c *call) (any, error) {
			rt, params, ok := matchRoute(routes, c.r)
			if !ok {
				return nil, notFound("UnknownOperationException", "No operation matches %s %s", c.r.Method, c.r.URL.Path)
			}
			return rt.fn(c, params)
		},
		writeOK:    writeOK,
		writeError: writeError,
	}
}

// restOut lets a restJson1 handler choose a status code other than 200.
type restOut struct {
	status int
	body   any
}

func restJSONProtocol(routes []route) protocol {
	return restProtocol(routes, func(w http.ResponseWriter, c *call, out any) {
		status := http.StatusOK
		if ro, ok := out.(restOut); ok {
			status, out = ro.status, ro.body
		}
		w.Header().Set("X-Amzn-RequestId", c.reqID)
		if status == http.StatusNoContent {
			w.WriteHeader(status) // no body allowed
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(out)
	}, func(w http.ResponseWriter, c *call, e *apiError) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-RequestId", c.reqID)
		w.Header().Set("X-Amzn-ErrorType", e.Code)
		w.WriteHeader(e.Status)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": e.Message, "Code": e.Code})
	})
}

// cborOp handles one rpcv2Cbor operation.
type cborOp func(c *call, in cbor.Map) (cbor.Map, error)

func cborProtocol(ops map[string]cborOp) protocol {
	return protocol{
		operation: func(c *call) string {
			_, op, ok := strings.Cut(c.r.URL.Path, "/operation/")
			if !ok {
				return ""
			}
			return op
		},
		dispatch: func(c *call) (any, error) {
			if c.r.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" {
				return nil, badRequest("InvalidRequest", "missing header Smithy-Protocol: rpc-v2-cbor")
			}
			fn, ok := ops[c.op]
			if !ok {
				return nil, notFound("UnknownOperationException", "Unknown operation %q", c.op)
			}
			in := cbor.Map{}
			if len(c.body) > 0 {
				v, err := cbor.Decode(c.body)
				if err != nil {
					return nil, badRequest("SerializationException", "Could not decode CBOR body: %v", err)
				}
				m, ok := v.(cbor.Map)
				if !ok {
					return nil, badRequest("SerializationException", "CBOR body is not a map")
				}
				in = m
			}
			return fn(c, in)
		},
		writeOK: func(w http.ResponseWriter, c *call, out any) {
			m, _ := out.(cbor.Map)
			if m == nil {
				m = cbor.Map{}
			}
			b := cbor.Encode(m)
			w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
			w.Header().Set("Content-Type", "application/cbor")
			w.Header().Set("X-Amzn-RequestId", c.reqID)
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(b)
		},
		writeError: func(w http.ResponseWriter, c *call, e *apiError) {
			fault := "Sender"
			if e.Status >= 500 {
				fault = "Receiver"
			}
			b := cbor.Encode(cbor.Map{
				"__type":  cbor.String("com.amazonaws.cloudwatch#" + e.Code),
				"message": cbor.String(e.Message),
			})
			w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
			w.Header().Set("Content-Type", "application/cbor")
			w.Header().Set("X-Amzn-Query-Error", e.Code+";"+fault)
			w.Header().Set("X-Amzn-RequestId", c.reqID)
			w.WriteHeader(e.Status)
			_, _ = w.Write(b)
		},
	}
}
