package iampolicy

import "strings"

// Conditions. A statement's Condition holds when every operator in it holds, and an
// operator holds when every key under it does; a key holds when one of its values matches
// (AWS's evaluation logic). Evaluated are the string operators
//
//	StringEquals StringNotEquals StringEqualsIgnoreCase StringNotEqualsIgnoreCase StringLike StringNotLike
//
// on a key that has at most one value in the request (a key the request lacks matches none
// of the values, so it fails a positive operator and passes a negated one), the same
// prefixed by ForAllValues: (every value the request gives matches; a request without the
// key passes, as on AWS, which is why a policy pairs it with a positive check) or
// ForAnyValue: (one value does; without the key it fails), and Null ("true": the request
// lacks the key). Condition keys are case-insensitive; values are compared as the operator
// says, StringLike with the * and ? wildcards.
var stringOperators = []string{"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike"}

// conditionOperator splits op into its set prefix (ForAllValues, ForAnyValue or ""), the
// string operator, and whether it is negated; ok is false for an operator not evaluated.
func conditionOperator(op string) (set, base string, negated, ok bool) {
	set, base, found := strings.Cut(op, ":")
	if !found {
		set, base = "", op
	}
	if set != "" && set != "ForAllValues" && set != "ForAnyValue" {
		return "", "", false, false
	}
	if base == "Null" && set == "" {
		return "", base, false, true
	}
	for _, o := range stringOperators {
		if base == o {
			return set, base, strings.Contains(base, "Not"), true
		}
	}
	return "", "", false, false
}

func (s Statement) conditionsHold(ctx map[string][]string) bool {
	for op, keys := range s.Condition {
		set, base, negated, ok := conditionOperator(op)
		if !ok {
			return false // Validate refuses it; a policy built in Go that has one grants nothing
		}
		for key, want := range keys {
			have, present := lookupKey(ctx, key)
			if base == "Null" {
				if (len(want) > 0 && strings.EqualFold(want[0], "true")) == present {
					return false
				}
				continue
			}
			match := func(v string) bool {
				for _, w := range want {
					if stringMatch(base, w, v) {
						return true
					}
				}
				return false
			}
			hold := false
			switch set {
			case "ForAllValues":
				hold = true
				for _, v := range have {
					if match(v) == negated {
						hold = false
					}
				}
			case "ForAnyValue":
				for _, v := range have {
					if match(v) != negated {
						hold = true
					}
				}
			default:
				matched := false
				for _, v := range have {
					matched = matched || match(v)
				}
				hold = matched != negated
			}
			if !hold {
				return false
			}
		}
	}
	return true
}

// lookupKey finds a condition key case-insensitively.
func lookupKey(ctx map[string][]string, key string) ([]string, bool) {
	if v, ok := ctx[key]; ok {
		return v, true
	}
	for k, v := range ctx {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// stringMatch compares a request value v with a policy value w by the (positive form of
// the) operator.
func stringMatch(op, w, v string) bool {
	switch strings.Replace(op, "Not", "", 1) {
	case "StringEqualsIgnoreCase":
		return strings.EqualFold(w, v)
	case "StringLike":
		return glob(w, v)
	}
	return w == v
}
