// Package deploytest checks the deployment files in deploy/ as a user would meet them:
//
//   - the systemd units in deploy/systemd pass `systemd-analyze verify`, carry the
//     hardening they promise and start kirikae with flags it has;
//   - every Kubernetes manifest in deploy/kubernetes decodes strictly into the k8s.io/api
//     types (unknown, misspelt and duplicate fields refused) and keeps the invariants the
//     control plane's quorum and the agents depend on;
//   - the placement guide's table agrees with raft's quorum arithmetic.
//
// Each check is also shown to fail on a broken copy of a file. The package holds tests
// only; it owns no deployment file and must not change one.
package deploytest
