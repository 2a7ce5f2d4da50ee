package awssim

import (
	"encoding/base64"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Filters and pages, shared by every Describe and List operation that AWS filters or pages.
//
// A page marker (RDS/ElastiCache Marker, EC2 NextToken, ELBv2 NextMarker, Backup NextToken,
// EFS NextMarker) is opaque to the caller, as on AWS; inside it is the key of the last item
// the previous page returned. Every paged listing is sorted by that key, so the next page
// starts at the first item after it even when that item has gone in between: a walk over
// every page sees each item that existed throughout exactly once.

// queryFilter is one filter of an awsQuery or ec2Query request: a name, and values of
// which any may match.
type queryFilter struct {
	Name   string
	Values []string
}

// queryFilters reads a filter list in request order: Filters.Filter.N.Name with
// Filters.Filter.N.Values.Value.M (RDS, what the SDK and the AWS CLI send), or Filter.N.Name
// with Filter.N.Value.M (EC2). A filter with values and no name is refused, naming the
// parameter.
func queryFilters(p url.Values, prefix string) ([]queryFilter, error) {
	type entry struct {
		name    string
		hasName bool
		vals    map[int]string
	}
	byIndex := map[int]*entry{}
	for k, vs := range p {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok || len(vs) == 0 {
			continue
		}
		nStr, field, ok := strings.Cut(rest, ".")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(nStr)
		if err != nil {
			continue
		}
		e := byIndex[n]
		if e == nil {
			e = &entry{vals: map[int]string{}}
			byIndex[n] = e
		}
		if field == "Name" {
			e.name, e.hasName = vs[0], true
			continue
		}
		// Values.Value.M, Values.member.M or Value.M: the index is the last segment.
		m, err := strconv.Atoi(field[strings.LastIndexByte(field, '.')+1:])
		if err != nil {
			continue
		}
		e.vals[m] = vs[0]
	}
	idx := make([]int, 0, len(byIndex))
	for n := range byIndex {
		idx = append(idx, n)
	}
	sort.Ints(idx)
	out := make([]queryFilter, 0, len(idx))
	for _, n := range idx {
		e := byIndex[n]
		if !e.hasName || e.name == "" {
			return nil, badRequest("InvalidParameterValue", "The request must contain the parameter %s.%d.Name", prefix, n)
		}
		ms := make([]int, 0, len(e.vals))
		for m := range e.vals {
			ms = append(ms, m)
		}
		sort.Ints(ms)
		f := queryFilter{Name: e.name}
		for _, m := range ms {
			f.Values = append(f.Values, e.vals[m])
		}
		out = append(out, f)
	}
	return out, nil
}

// checkFilterNames fails with unknown(name) on the first filter whose name known does not
// accept, before anything is read, so a misspelt filter never widens an answer.
func checkFilterNames(fs []queryFilter, known func(name string) bool, unknown func(name string) error) error {
	for _, f := range fs {
		if !known(f.Name) {
			return unknown(f.Name)
		}
	}
	return nil
}

// anyEqual reports whether one of have is exactly one of want: RDS filter semantics.
func anyEqual(want, have []string) bool {
	for _, w := range want {
		for _, h := range have {
			if w == h {
				return true
			}
		}
	}
	return false
}

// anyGlob reports whether one of have matches one of the patterns in want, with EC2's
// filter wildcards: * is any run of characters (slashes included), ? is one character, and
// a backslash escapes either.
func anyGlob(want, have []string) bool {
	for _, w := range want {
		for _, h := range have {
			if globMatch(w, h) {
				return true
			}
		}
	}
	return false
}

func globMatch(pattern, s string) bool {
	p, t := []rune(pattern), []rune(s)
	// Classic iterative matcher with one backtrack point for the last star.
	pi, ti, star, mark := 0, 0, -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case pi < len(p) && (p[pi] == '?' || p[pi] == t[ti] && p[pi] != '\\' ||
			p[pi] == '\\' && pi+1 < len(p) && p[pi+1] == t[ti]):
			if p[pi] == '\\' {
				pi++
			}
			pi++
			ti++
		case star >= 0:
			pi, mark = star+1, mark+1
			ti = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// pageLimits is the range AWS documents for a page-size parameter and its default; a zero
// def means that without the parameter everything comes on one page.
type pageLimits struct {
	min, max, def int
}

// pageReq is a checked paging request: at most size items (0: no limit) after the item
// whose key the marker holds.
type pageReq struct {
	size  int
	after string
	from  bool // a marker was given
}

const markerPrefix = "awssim-page:"

func encodeMarker(key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(markerPrefix + key))
}

func decodeMarker(m string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(m)
	if err != nil {
		return "", false
	}
	return strings.CutPrefix(string(b), markerPrefix)
}

// parsePage checks a page size (the raw parameter, "" when absent) against lim and decodes
// a marker. badSize and badMarker build the service's own errors for bad values.
func parsePage(size, marker string, lim pageLimits, badSize, badMarker func(v string) error) (pageReq, error) {
	r := pageReq{size: lim.def}
	if size != "" {
		n, err := strconv.Atoi(size)
		if err != nil || n < lim.min || lim.max > 0 && n > lim.max {
			return pageReq{}, badSize(size)
		}
		r.size = n
	}
	if marker != "" {
		key, ok := decodeMarker(marker)
		if !ok {
			return pageReq{}, badMarker(marker)
		}
		r.after, r.from = key, true
	}
	return r, nil
}

// pageOf returns the page r asks for of items, which must be sorted by key, and the
// marker of the next page ("" on the last).
func pageOf[T any](items []T, key func(T) string, r pageReq) (page []T, next string) {
	start := 0
	if r.from {
		start = sort.Search(len(items), func(i int) bool { return key(items[i]) > r.after })
	}
	items = items[start:]
	if r.size <= 0 || len(items) <= r.size {
		return items, ""
	}
	page = items[:r.size]
	return page, encodeMarker(key(page[len(page)-1]))
}
