// Package activeregion is the client library other services use to learn which AWS region
// kirikae's control plane says is live.
//
// A [Client] keeps a cached kirikaev1.RegionState fresh through the control plane's
// WatchActiveRegion stream, in one background goroutine. When a stream fails it rotates to
// the next address it was given, after a jittered, bounded backoff, and resumes from the
// last raft index it saw, so no change is missed: the control plane sends every change with
// a larger index, in order, from any node.
//
// # Staleness
//
// The cache can only be as fresh as the last time a control-plane node vouched for it, so
// every [Snapshot] says how old that is. The cache counts as confirmed when:
//   - a message arrives on the watch stream; or
//   - a stale GetActiveRegion read on the streaming node returns the very state the cache
//     holds. The client makes one such read when a stream (re)connects and then every
//     [Config.ConfirmInterval]. A node answers with the time since it last heard from the
//     raft leader, and the confirmation is backdated by that much, so a follower cut off
//     from its leader cannot make the answer look fresh.
//
// The read is needed because the watch stream is silent while nothing changes: without it
// a healthy, quiet stream and a dead one would look the same. The same read finds a node
// that answers but cannot vouch (it lags, or has lost its leader): after
// [Config.RotateAfter] the watch moves on to the next address. When no node vouches, the
// staleness grows without bound, and the caller decides what is too old.
//
// # What the caller must do
//
// The client reports; it never decides. A service that must not write outside the active
// region checks both [Snapshot.IsActive] and [Snapshot.Staleness] on one [Client.Current]
// snapshot before each write (see the package example), and should carry the epoch
// (RegionState.Epoch) with its writes where its store can fence on it:
// staleness bounds how late the news of a failover can be, and the epoch makes a write
// from before the failover refusable.
//
// # What this package must not touch
//
// It reads only: it never calls the admin services that change the region state. It never
// builds TLS itself: the caller passes transport credentials in [Config.DialOptions]. It
// logs only through the [Config.Logger] it is given.
//
// # Concurrency
//
// Every method of [Client] is safe for concurrent use. [Client.IsActive], [Client.Active]
// and [Client.Current] read the cache under a read lock and never touch the network, so
// they are cheap enough to call before every write.
package activeregion
