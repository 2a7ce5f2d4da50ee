package awssim

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// ErrNoCopies is returned when there is nothing to set the age of: no cross-region
// snapshot copy of the instance, or no recovery point in the vault.
var ErrNoCopies = errors.New("awssim: no copies")

// The methods in this file let a tabletop drill build its isolated world after the live
// one: what the live readiness checks observed (the age of the newest cross-region RDS
// snapshot copy, of the newest EFS recovery point in the DR vault) is set on the
// simulated copies. They change the simulator's starting state, not a simulated AWS call,
// so nothing lands in the journal.

// SetSnapshotCopyAge makes the data of the newest cross-region copy of instance's snapshots
// in region exactly age old now, the age readiness measures (its SnapshotDatabaseTime and
// OriginalSnapshotCreateTime; the copy's own SnapshotCreateTime is later). It moves every
// such copy, and every time of each, by the same amount, so the gaps between the daily
// copies and between each copy's data and its copying stay as they were, except that no
// time moves past now. It returns the newest copy's id.
func (s *Sim) SetSnapshotCopyAge(region, instance string, age time.Duration) (string, error) {
	if age < 0 {
		return "", fmt.Errorf("awssim: snapshot copy age %s: must not be negative", age)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rs, err := s.simulatedLocked(region)
	if err != nil {
		return "", err
	}
	var copies []*dbSnapshot
	for _, sn := range rs.DBSnapshots {
		if sn.InstanceID == instance && sn.SourceRegion != "" {
			copies = append(copies, sn)
		}
	}
	if len(copies) == 0 {
		return "", fmt.Errorf("%w: no cross-region snapshot copy of %s in %s", ErrNoCopies, instance, region)
	}
	sort.Slice(copies, func(i, j int) bool { return copies[i].dataTime().After(copies[j].dataTime()) })
	now := s.now()
	shift := now.Add(-age).Sub(copies[0].dataTime())
	move := func(t time.Time) time.Time {
		if t = t.Add(shift); t.After(now) {
			return now
		}
		return t
	}
	for _, sn := range copies {
		sn.Original, sn.DataTime = move(sn.original()), move(sn.dataTime())
		sn.Created = move(sn.Created)
		shiftTimeline(&sn.Status, shift, now)
	}
	return copies[0].ID, s.saveLocked()
}

// RemoveSnapshotCopies deletes every cross-region copy of instance's snapshots in region,
// as when the live readiness found none. It returns how many it deleted.
func (s *Sim) RemoveSnapshotCopies(region, instance string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs, err := s.simulatedLocked(region)
	if err != nil {
		return 0, err
	}
	n := 0
	for id, sn := range rs.DBSnapshots {
		if sn.InstanceID == instance && sn.SourceRegion != "" {
			delete(rs.DBSnapshots, id)
			n++
		}
	}
	return n, s.saveLocked()
}

// SetRecoveryPointAge makes the newest recovery point in vault (in region) exactly age
// old now, moving every recovery point of the vault by the same amount. It returns the
// newest recovery point's ARN.
func (s *Sim) SetRecoveryPointAge(region, vault string, age time.Duration) (string, error) {
	if age < 0 {
		return "", fmt.Errorf("awssim: recovery point age %s: must not be negative", age)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rs, err := s.simulatedLocked(region)
	if err != nil {
		return "", err
	}
	points := rs.Vaults[vault]
	if len(points) == 0 {
		return "", fmt.Errorf("%w: no recovery point in vault %s in %s", ErrNoCopies, vault, region)
	}
	newest := points[0]
	for _, p := range points {
		if p.Created.After(newest.Created) {
			newest = p
		}
	}
	shift := s.now().Add(-age).Sub(newest.Created)
	for _, p := range points {
		p.Created = p.Created.Add(shift)
	}
	return newest.ARN, s.saveLocked()
}

// RemoveRecoveryPoints empties vault (in region), as when the live readiness found no
// recovery point. The vault itself stays. It returns how many it deleted.
func (s *Sim) RemoveRecoveryPoints(region, vault string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs, err := s.simulatedLocked(region)
	if err != nil {
		return 0, err
	}
	points, ok := rs.Vaults[vault]
	if !ok {
		return 0, fmt.Errorf("%w: vault %s does not exist in %s", ErrNoCopies, vault, region)
	}
	rs.Vaults[vault] = nil
	return len(points), s.saveLocked()
}

// shiftTimeline moves every phase by shift, but never past now: a copy that was available
// stays available.
func shiftTimeline(tl *timeline, shift time.Duration, now time.Time) {
	for i := range tl.Phases {
		at := tl.Phases[i].At.Add(shift)
		if at.After(now) {
			at = now
		}
		tl.Phases[i].At = at
	}
}

// simulatedLocked returns the state of region, or an error naming the simulated regions.
func (s *Sim) simulatedLocked(region string) (*regionState, error) {
	rs, ok := s.st.Regions[region]
	if !ok {
		return nil, fmt.Errorf("awssim: region %q is not simulated (regions: %v)", region, s.st.Pair)
	}
	return rs, nil
}
