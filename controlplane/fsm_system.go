package controlplane

import (
	"errors"

	"google.golang.org/protobuf/proto"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/system"
)

// applySystem stores the user's system file. The edge validated the operator's file and sent
// its canonical form; parsing that again here is deterministic, so every node stores the
// same system or refuses alike. The system's region pair must be the control plane's, once
// that is initialized: a plan resolved against one pair must never run against another.
func (f *FSM) applySystem(cmd *kirikaev1.Command, req *kirikaev1.ApplySystem) *kirikaev1.CommandResult {
	sys, err := system.Parse(req.GetFileName(), req.GetYaml())
	if err != nil {
		var ve *system.ValidationError
		if errors.As(err, &ve) {
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "%s", ve.Error())
		}
		return refuse(kirikaev1.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "system file %s: %v", req.GetFileName(), err)
	}
	cur := f.state.GetSystem()
	if want := req.GetExpectedDigest(); want != "" {
		have := cur.GetDigest()
		if have == "" {
			have = "none"
		}
		if want != have {
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION,
				"the stored system's digest is %s, not the expected %s: someone applied a change since you read it; run `kirikae system show` and apply again", have, want)
		}
	}
	primary, secondary := sys.Role(system.Primary).Name, sys.Role(system.Secondary).Name
	if f.state.GetInitialized() {
		r := f.state.GetRegion()
		if r.GetPrimary() != primary || r.GetSecondary() != secondary {
			return refuse(kirikaev1.ErrorCode_ERROR_CODE_FAILED_PRECONDITION,
				"system %s is for %s → %s, but the control plane's region pair is %s → %s (set by `kirikae region init`); fix spec.regions in %s",
				sys.Name, primary, secondary, r.GetPrimary(), r.GetSecondary(), req.GetFileName())
		}
	}
	digest := sys.Digest()
	if cur.GetDigest() == digest {
		return &kirikaev1.CommandResult{System: proto.Clone(cur).(*kirikaev1.SystemRecord)}
	}
	f.state.System = &kirikaev1.SystemRecord{
		Name: sys.Name, Yaml: sys.Marshal(), Digest: digest, SourceFile: req.GetFileName(),
		Version: cur.GetVersion() + 1, AppliedBy: cmd.GetActor(), AppliedUnixNano: cmd.GetTimeUnixNano(),
		Primary: primary, Secondary: secondary,
	}
	return &kirikaev1.CommandResult{System: proto.Clone(f.state.System).(*kirikaev1.SystemRecord), Changed: true}
}

// systemPairProblem says why a region pair may not be initialized over the stored system.
func (f *FSM) systemPairProblem(primary, secondary string) string {
	s := f.state.GetSystem()
	if s == nil || (s.GetPrimary() == primary && s.GetSecondary() == secondary) {
		return ""
	}
	return "the stored system " + s.GetName() + " is for " + s.GetPrimary() + " → " + s.GetSecondary() +
		"; initialize that pair, or apply a system file for " + primary + " → " + secondary + " first"
}

// System returns a copy of the stored system record, or nil.
func (f *FSM) System() *kirikaev1.SystemRecord {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.state.GetSystem() == nil {
		return nil
	}
	return proto.Clone(f.state.GetSystem()).(*kirikaev1.SystemRecord)
}

// SystemDigest is the stored system's digest, or "" when none is stored: a cheap way to
// notice a new system without copying it.
func (f *FSM) SystemDigest() string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.state.GetSystem().GetDigest()
}
