package iampolicy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// Others is the key of an assignment that gives the policies of every access key the
// assignment does not name.
const Others = "*"

// Assignment gives each access key id its policies: what awssim enforces. A key it does not
// name gets the Others policies, or none; a key without policies is denied everything
// (AWS's default deny), except what AWS allows every caller (sts:GetCallerIdentity).
type Assignment struct {
	byKey map[string][]*Policy
}

// NewAssignment assigns policies by access key id; Others names the policies of every key
// not listed.
func NewAssignment(byKey map[string][]*Policy) *Assignment {
	a := &Assignment{byKey: map[string][]*Policy{}}
	for k, ps := range byKey {
		a.byKey[k] = slices.Clone(ps)
	}
	return a
}

// ForAll assigns the same policies to every access key.
func ForAll(policies ...*Policy) *Assignment {
	return NewAssignment(map[string][]*Policy{Others: policies})
}

// Policies are the policies of an access key id.
func (a *Assignment) Policies(key string) []*Policy {
	if ps, ok := a.byKey[key]; ok {
		return ps
	}
	return a.byKey[Others]
}

// Keys lists the access key ids the assignment names, sorted (Others among them if given).
func (a *Assignment) Keys() []string { return slices.Sorted(maps.Keys(a.byKey)) }

// Decide evaluates a request signed with key.
func (a *Assignment) Decide(key, action string, resources []string) Result {
	return Evaluate(a.Policies(key), action, resources)
}

// LoadAssignment reads an assignment file (see ParseAssignment); policy files it names are
// read relative to its directory.
func LoadAssignment(path string) (*Assignment, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("iam file: %w", err)
	}
	dir := filepath.Dir(path)
	a, err := ParseAssignment(data, func(name string) ([]byte, error) {
		if !filepath.IsAbs(name) {
			name = filepath.Join(dir, name)
		}
		return os.ReadFile(name)
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// ParseAssignment reads the JSON that `kirikae sim --iam FILE` takes. It is either
//
//   - one policy document (an object with Version and Statement), enforced for every
//     access key; or
//   - an object from access key id to what that key may do: a policy document, the name of
//     a policy file (read with readFile, e.g. deploy/iam/kaigo-us-west-2.json), or a list of
//     those. The key "*" gives the policies of every access key not named.
//
// For example:
//
//	{
//	  "AKIAPRIMARYAGENT0001": "deploy/iam/kaigo-us-east-1.json",
//	  "AKIASECONDARYAGENT01": "deploy/iam/kaigo-us-west-2.json",
//	  "*": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
//	}
func ParseAssignment(data []byte, readFile func(name string) ([]byte, error)) (*Assignment, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("%w: want a policy document or an object from access key id to policies: %v", ErrInvalid, err)
	}
	if _, ok := top["Statement"]; ok {
		p, err := Parse(data)
		if err != nil {
			return nil, err
		}
		return ForAll(p), nil
	}
	if len(top) == 0 {
		return nil, fmt.Errorf("%w: the file names no access key", ErrInvalid)
	}
	byKey := map[string][]*Policy{}
	for _, key := range slices.Sorted(maps.Keys(top)) {
		ps, err := policiesOf(top[key], readFile)
		if err != nil {
			return nil, fmt.Errorf("access key %s: %w", key, err)
		}
		byKey[key] = ps
	}
	return NewAssignment(byKey), nil
}

func policiesOf(raw json.RawMessage, readFile func(string) ([]byte, error)) ([]*Policy, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) > 0 && raw[0] == '"':
		var name string
		if err := json.Unmarshal(raw, &name); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		if readFile == nil {
			return nil, fmt.Errorf("%w: policy file %s: no files may be read here", ErrInvalid, name)
		}
		b, err := readFile(name)
		if err != nil {
			return nil, fmt.Errorf("policy file: %w", err)
		}
		p, err := Parse(b)
		if err != nil {
			return nil, fmt.Errorf("policy file %s: %w", name, err)
		}
		return []*Policy{p}, nil
	case len(raw) > 0 && raw[0] == '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		var out []*Policy
		for i, it := range items {
			if bytes.HasPrefix(bytes.TrimSpace(it), []byte("[")) {
				return nil, fmt.Errorf("%w: [%d]: a list holds policy documents or policy file names, not lists", ErrInvalid, i)
			}
			ps, err := policiesOf(it, readFile)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out = append(out, ps...)
		}
		return out, nil
	}
	p, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	return []*Policy{p}, nil
}
