// Package bench holds the control plane's benchmarks: active-region read throughput at
// each consistency, watch fan-out latency, and leader failover time. They run real server
// processes on loopback and print figures; they assert nothing about time.
//
// Run them with `make bench` (go test -run '^$' -bench . -benchtime 1x ./bench/...).
package bench
