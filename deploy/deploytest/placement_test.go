package deploytest

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// layout is a control-plane placement: nodes per location, a location being
// REGION/ZONE. P and S are the primary and secondary regions of the pair.
type layout map[string]int

func parseLayout(s string) (layout, error) {
	l := layout{}
	for _, f := range strings.Fields(strings.Trim(s, "` ")) {
		loc, n, ok := strings.Cut(f, ":")
		c, err := strconv.Atoi(n)
		if !ok || err != nil || c < 1 || !strings.Contains(loc, "/") {
			return nil, fmt.Errorf("%q is not REGION/ZONE:COUNT", f)
		}
		l[loc] += c
	}
	if len(l) == 0 {
		return nil, fmt.Errorf("no nodes in %q", s)
	}
	return l, nil
}

func (l layout) nodes() int {
	n := 0
	for _, c := range l {
		n += c
	}
	return n
}

func (l layout) quorum() int { return l.nodes()/2 + 1 }

// in counts the nodes in a region (or site), all its zones.
func (l layout) in(region string) int {
	n := 0
	for loc, c := range l {
		if strings.HasPrefix(loc, region+"/") {
			n += c
		}
	}
	return n
}

// regions lists the regions and sites that hold nodes, P and S always among them.
func (l layout) regions() []string {
	rs := []string{"P", "S"}
	for loc := range l {
		r, _, _ := strings.Cut(loc, "/")
		if !slices.Contains(rs, r) {
			rs = append(rs, r)
		}
	}
	return rs
}

// survives is the quorum arithmetic behind each column of the placement table: what is
// left after the failure must be a quorum of the whole membership, which does not shrink
// because nodes are unreachable.
var survives = map[string]func(l layout) bool{
	"Primary region lost":   func(l layout) bool { return l.nodes()-l.in("P") >= l.quorum() },
	"Secondary region lost": func(l layout) bool { return l.nodes()-l.in("S") >= l.quorum() },
	"One node lost":         func(l layout) bool { return l.nodes()-1 >= l.quorum() },
	"Two nodes lost":        func(l layout) bool { return l.nodes()-2 >= l.quorum() },
	"One zone lost": func(l layout) bool {
		return l.nodes()-slices.Max(slices.Collect(maps.Values(l))) >= l.quorum()
	},
	"One region or site lost (worst)": func(l layout) bool {
		worst := 0
		for _, r := range l.regions() {
			worst = max(worst, l.in(r))
		}
		return l.nodes()-worst >= l.quorum()
	},
	"Primary lost, one more node down": func(l layout) bool { return l.nodes()-l.in("P")-1 >= l.quorum() },
	// Every region and site on its own: one of them must hold a quorum by itself.
	"Every link between regions and sites cut": func(l layout) bool {
		for _, r := range l.regions() {
			if l.in(r) >= l.quorum() {
				return true
			}
		}
		return false
	},
}

// placementTable reads the layout table of deploy/PLACEMENT.md: its header and rows.
func placementTable(t *testing.T, text string) ([]string, [][]string) {
	t.Helper()
	var header []string
	var rows [][]string
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "|") {
			if header != nil {
				break
			}
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		switch {
		case header == nil && cells[0] == "Layout":
			header = cells
		case header != nil && !strings.HasPrefix(cells[0], "---"):
			rows = append(rows, cells)
		}
	}
	if header == nil || len(rows) == 0 {
		t.Fatal("PLACEMENT.md has no table whose first column is Layout")
	}
	return header, rows
}

// verdict is how a cell starts: yes or no, then any explanation.
var verdict = regexp.MustCompile(`^(yes|no)\b`)

// checkPlacement returns every cell of the table that the arithmetic contradicts.
func checkPlacement(t *testing.T, text string) []string {
	t.Helper()
	header, rows := placementTable(t, text)
	var problems []string
	for _, col := range slices.Sorted(maps.Keys(survives)) {
		if !slices.Contains(header, col) {
			problems = append(problems, "the table has no column "+col)
		}
	}
	for _, row := range rows {
		if len(row) != len(header) {
			problems = append(problems, fmt.Sprintf("%s: %d cells, the header has %d", row[0], len(row), len(header)))
			continue
		}
		l, err := parseLayout(row[slices.Index(header, "Nodes (site:count)")])
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", row[0], err))
			continue
		}
		if want := fmt.Sprintf("%d of %d", l.quorum(), l.nodes()); row[slices.Index(header, "Quorum")] != want {
			problems = append(problems, fmt.Sprintf("%s: quorum %q, want %q", row[0], row[slices.Index(header, "Quorum")], want))
		}
		if l.nodes()%2 == 0 {
			problems = append(problems, fmt.Sprintf("%s: an even number of nodes", row[0]))
		}
		for i, col := range header {
			f, ok := survives[col]
			if !ok {
				continue
			}
			want := map[bool]string{true: "yes", false: "no"}[f(l)]
			if verdict.FindString(row[i]) != want {
				problems = append(problems, fmt.Sprintf("%s, %s: the table says %q, the arithmetic %s", row[0], col, row[i], want))
			}
		}
	}
	return problems
}

func TestPlacementTableAgreesWithQuorumArithmetic(t *testing.T) {
	for _, p := range checkPlacement(t, readDeployFile(t, "PLACEMENT.md")) {
		t.Error(p)
	}
}

func TestPlacementCheckRefusesAWrongTable(t *testing.T) {
	text := readDeployFile(t, "PLACEMENT.md")
	cases := []struct{ name, old, new, want string }{
		{"a loss it does not survive", "| `P/a:1 P/b:1 S/a:1` | 2 of 3 | no: the disaster takes the quorum |",
			"| `P/a:1 P/b:1 S/a:1` | 2 of 3 | yes |", "Primary region lost"},
		{"a wrong quorum", "| `T/a:2 T/b:2 T/c:1` | 3 of 5 |", "| `T/a:2 T/b:2 T/c:1` | 2 of 5 |", "quorum"},
		{"an even layout", "| `T/a:1 T/b:1 T/c:1` | 2 of 3 |", "| `T/a:1 T/b:1 T/c:1 U/a:1` | 3 of 4 |", "even"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			problems := checkPlacement(t, mustReplace(t, text, tc.old, tc.new))
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Fatalf("no problem mentions %q; got %q", tc.want, problems)
			}
		})
	}
}
