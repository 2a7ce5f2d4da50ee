package yamlcheck

import "strings"

// maxSuggestLen is the longest name Suggest measures edit distances for; longer names are
// only matched by containment, so a hostile file cannot make suggesting quadratic in its
// size.
const maxSuggestLen = 64

// Suggest returns the option name most likely meant, or "" when none is close: one that
// differs only in case, else the nearest within an edit distance of about a third of the
// name's length (a swap of two neighbouring letters counting as one edit), else the first
// that contains name or is contained in it, in any case.
func Suggest(name string, options []string) string {
	if name == "" {
		return ""
	}
	lower := strings.ToLower(name)
	best, bestD := "", 0
	for _, o := range options {
		if o == "" || o == name {
			continue
		}
		lo := strings.ToLower(o)
		if lo == lower {
			return o
		}
		if len(name) > maxSuggestLen || len(o) > maxSuggestLen {
			continue
		}
		limit := max(1, len(name)/3)
		if d := len(lo) - len(lower); d > limit || -d > limit {
			continue
		}
		if d := distance(lower, lo); d <= limit && (best == "" || d < bestD) {
			best, bestD = o, d
		}
	}
	if best != "" {
		return best
	}
	if len(name) < 3 {
		return ""
	}
	for _, o := range options {
		lo := strings.ToLower(o)
		if o != name && len(o) >= 3 && (strings.Contains(lo, lower) || strings.Contains(lower, lo)) {
			return o
		}
	}
	return ""
}

// distance is the optimal string alignment distance of a and b: insertions, deletions,
// substitutions and swaps of neighbouring bytes, each one edit.
func distance(a, b string) int {
	// Three rows of the table: two back, one back, this one.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
