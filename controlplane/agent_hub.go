package controlplane

import (
	"slices"
	"strings"
	"sync"
	"time"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// The agent hub: the leader's registry of connected agents, by region and id, and how it
// picks one of a region's healthy agents for a step.

// HeartbeatInterval is what the leader asks agents for.
const HeartbeatInterval = time.Second

// agentGrace is how long a new leader waits for agents to reconnect before it treats the
// agent of a dispatched step as lost.
const agentGrace = 5 * time.Second

// agentLost is how long without a heartbeat before a connected agent counts as lost.
const agentLost = 3 * HeartbeatInterval

type attemptKey struct {
	run, step string
	attempt   uint32
}

// agentConn is one connected agent: leader-local soft state, never replicated.
type agentConn struct {
	info        *kirikaev1.AgentInfo
	connectedAt time.Time
	send        chan *kirikaev1.ConnectResponse
	done        chan struct{}
	closeOnce   sync.Once

	mu     sync.Mutex
	health *kirikaev1.AgentHealth
	lastHB time.Time
	sent   map[attemptKey]bool
}

func (c *agentConn) close() { c.closeOnce.Do(func() { close(c.done) }) }

// enqueue sends a message on the agent's stream without blocking the caller.
func (c *agentConn) enqueue(m *kirikaev1.ConnectResponse) bool {
	select {
	case c.send <- m:
		return true
	case <-c.done:
		return false
	default:
		return false
	}
}

func (c *agentConn) healthy(now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.health.GetHealthy() && now.Sub(c.lastHB) < agentLost
}

// hung reports whether a connected agent has sent no heartbeat for longer than agentLost
// and the grace period after it: its steps move to another agent of its region.
func (c *agentConn) hung(now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return now.Sub(c.lastHB) > agentLost+agentGrace
}

// agentKey identifies an agent: the region its certificate names, and its id, unique
// within that region. An agent of one region can never take the place of another's.
type agentKey struct{ region, id string }

func keyOf(info *kirikaev1.AgentInfo) agentKey { return agentKey{info.GetRegion(), info.GetId()} }

// agentHub holds the agents connected to this node while it leads.
type agentHub struct {
	mu          sync.Mutex
	conns       map[agentKey]*agentConn
	leaderSince time.Time
	// lastSeen remembers when each agent was last connected here, for the grace period.
	lastSeen map[agentKey]time.Time
	waiters  map[string]chan *kirikaev1.ReadinessReport
	wake     chan struct{}
}

func newAgentHub() *agentHub {
	return &agentHub{conns: map[agentKey]*agentConn{}, lastSeen: map[agentKey]time.Time{},
		waiters: map[string]chan *kirikaev1.ReadinessReport{}, wake: make(chan struct{}, 1)}
}

func (h *agentHub) poke() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

func (h *agentHub) add(c *agentConn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := keyOf(c.info)
	if old, ok := h.conns[k]; ok {
		old.close()
	}
	h.conns[k] = c
	h.lastSeen[k] = time.Now()
	h.poke()
}

func (h *agentHub) remove(c *agentConn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := keyOf(c.info)
	if h.conns[k] == c {
		delete(h.conns, k)
		h.lastSeen[k] = time.Now()
	}
	c.close()
	h.poke()
}

// closeAll drops every stream, e.g. when this node stops leading: agents reconnect to the
// new leader.
func (h *agentHub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, c := range h.conns {
		c.close()
		delete(h.conns, id)
	}
}

func (h *agentHub) get(region, id string) *agentConn {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.conns[agentKey{region, id}]
}

// can reports whether the agent advertised the action at registration. An agent that
// advertised nothing is trusted with anything (older agents).
func (c *agentConn) can(action string) bool {
	return action == "" || len(c.info.GetActions()) == 0 || slices.Contains(c.info.GetActions(), action)
}

// pick returns a healthy connected agent of a region that can run the action ("" for any
// action: a plan check), with the fewest running steps, other than avoid.
func (h *agentHub) pick(region, action string, avoid *agentConn, now time.Time) *agentConn {
	h.mu.Lock()
	defer h.mu.Unlock()
	var best *agentConn
	var bestLoad int32
	keys := make([]agentKey, 0, len(h.conns))
	for k := range h.conns {
		if k.region == region {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b agentKey) int { return strings.Compare(a.id, b.id) }) // deterministic choice among equals
	for _, k := range keys {
		c := h.conns[k]
		if c == avoid || !c.can(action) || !c.healthy(now) {
			continue
		}
		c.mu.Lock()
		load := c.health.GetRunningSteps()
		c.mu.Unlock()
		if best == nil || load < bestLoad {
			best, bestLoad = c, load
		}
	}
	return best
}

// inGrace reports whether an agent that is not connected may still come back before its
// work is moved: within agentGrace of this node becoming leader or of the agent leaving.
func (h *agentHub) inGrace(region, id string, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if now.Sub(h.leaderSince) < agentGrace {
		return true
	}
	seen, ok := h.lastSeen[agentKey{region, id}]
	return ok && now.Sub(seen) < agentGrace
}

func (h *agentHub) snapshot() []*agentConn {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*agentConn, 0, len(h.conns))
	for _, c := range h.conns {
		out = append(out, c)
	}
	return out
}
