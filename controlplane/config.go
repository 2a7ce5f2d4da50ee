package controlplane

import (
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// validate checks the raft timeouts as raft will when the node starts, with the flags'
// names, so that a bad one is refused before anything is bound or created. All zero means
// DefaultRaftTimeouts.
func (t RaftTimeouts) validate() error {
	if t == (RaftTimeouts{}) {
		return nil
	}
	for _, d := range []struct {
		flag     string
		v, least time.Duration
	}{
		{"--raft-heartbeat-timeout", t.Heartbeat, 5 * time.Millisecond},
		{"--raft-election-timeout", t.Election, 5 * time.Millisecond},
		{"--raft-leader-lease-timeout", t.LeaderLease, 5 * time.Millisecond},
		{"--raft-commit-timeout", t.Commit, time.Millisecond},
	} {
		if d.v < d.least {
			return fmt.Errorf("%w: %s %s: want at least %s", ErrInvalidArgument, d.flag, d.v, d.least)
		}
	}
	if t.LeaderLease > t.Heartbeat {
		return fmt.Errorf("%w: --raft-leader-lease-timeout %s must not exceed --raft-heartbeat-timeout %s", ErrInvalidArgument, t.LeaderLease, t.Heartbeat)
	}
	if t.Election < t.Heartbeat {
		return fmt.Errorf("%w: --raft-election-timeout %s must not be less than --raft-heartbeat-timeout %s", ErrInvalidArgument, t.Election, t.Heartbeat)
	}
	// Whatever else raft checks, checked here too, so NewNode never refuses what passed.
	rc := raft.DefaultConfig()
	rc.LocalID = "validate"
	rc.HeartbeatTimeout, rc.ElectionTimeout, rc.LeaderLeaseTimeout, rc.CommitTimeout = t.Heartbeat, t.Election, t.LeaderLease, t.Commit
	if err := raft.ValidateConfig(rc); err != nil {
		return fmt.Errorf("%w: raft timeouts: %w", ErrInvalidArgument, err)
	}
	return nil
}
