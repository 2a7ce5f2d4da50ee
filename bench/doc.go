// Package bench holds the control plane's benchmarks: active-region read throughput at
// each consistency, watch fan-out latency, leader failover time, and the failover plan's
// makespan on awssim. They run real server processes on loopback and print figures; they
// assert nothing about time.
//
// BenchmarkEtcdRange and BenchmarkEtcdLeaderFailover run the same loads against a
// 3-member etcd cluster (Debian's etcd-server) with the same mTLS certificates, so the
// figures can be read side by side; they skip when etcd is not installed.
//
// Run them with `make bench` (go test -run '^$' -bench . -benchtime 1x ./bench/...).
package bench
