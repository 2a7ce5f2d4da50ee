package agent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/system"
)

// systemFile holds, in DataDir, the last system the control plane sent, so that an agent
// that restarts checks readiness against it before it has reconnected.
const systemFile = "system.json"

// heldSystem is the system the agent checks readiness against: the record as the control
// plane sent it, and the system parsed from it, or why it could not be parsed.
type heldSystem struct {
	rec *kirikaev1.SystemRecord
	sys *system.System
	err error
}

// parseSystem reads a record's canonical YAML. The control plane stored it only after every
// node parsed it, so a failure here means this agent is older or newer than the file's
// format, or the record was damaged on the way.
func parseSystem(rec *kirikaev1.SystemRecord) *heldSystem {
	h := &heldSystem{rec: rec}
	sys, err := system.Parse(rec.GetSourceFile(), rec.GetYaml())
	switch {
	case err != nil:
		h.err = err
	case sys.Digest() != rec.GetDigest():
		h.err = fmt.Errorf("its YAML has digest %s, not the record's %s", sys.Digest(), rec.GetDigest())
	default:
		h.sys = sys
	}
	return h
}

// loadSystem reads DataDir/system.json. No file is no system; a file that cannot be read
// is reported and ignored (the control plane sends the system again after registered).
func loadSystem(dir string) (*heldSystem, error) {
	b, err := os.ReadFile(filepath.Join(dir, systemFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the stored system: %w", err)
	}
	rec := &kirikaev1.SystemRecord{}
	if err := protojson.Unmarshal(b, rec); err != nil {
		return nil, fmt.Errorf("the stored system %s: %w", filepath.Join(dir, systemFile), err)
	}
	h := parseSystem(rec)
	if h.err != nil {
		return nil, fmt.Errorf("the stored system %s (%s, digest %s): %w", filepath.Join(dir, systemFile), rec.GetName(), rec.GetDigest(), h.err)
	}
	return h, nil
}

// receiveSystem takes a system the control plane sent: a new digest replaces the held
// system, is written to DataDir, and triggers a fresh readiness report. The same digest
// again (after every reconnect) changes nothing.
func (a *Agent) receiveSystem(rec *kirikaev1.SystemRecord) {
	if cur := a.system.Load(); cur != nil && cur.rec.GetDigest() == rec.GetDigest() {
		return
	}
	h := parseSystem(rec)
	if h.err != nil {
		a.log.Error("cannot read the system the control plane sent; readiness reports it", "system", rec.GetName(),
			"version", rec.GetVersion(), "digest", rec.GetDigest(), "err", h.err)
	} else {
		a.log.Info("system received", "system", rec.GetName(), "version", rec.GetVersion(), "digest", rec.GetDigest(),
			"source_file", rec.GetSourceFile())
	}
	a.system.Store(h)
	if h.err == nil {
		b, err := protojson.Marshal(rec)
		if err == nil {
			err = writeFileSync(filepath.Join(a.cfg.DataDir, systemFile), b)
		}
		if err != nil {
			// Readiness still follows the new system; only a restart before the next
			// registration would check the old one.
			a.log.Warn("cannot keep the system in the data dir", "err", err)
		}
	}
	a.wg.Go(func() { a.runReadiness(a.ctx, "") })
}

// System returns the system the agent checks readiness against, as the control plane sent
// it, or nil when it has none.
func (a *Agent) System() *kirikaev1.SystemRecord {
	if h := a.system.Load(); h != nil {
		return proto.Clone(h.rec).(*kirikaev1.SystemRecord)
	}
	return nil
}

// heldSystem is the system the agent holds, parsed; nil before any, or when it did not parse.
func (a *Agent) heldSystem() *system.System {
	if h := a.system.Load(); h != nil {
		return h.sys
	}
	return nil
}
