package controlplane

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/raft"
	"google.golang.org/protobuf/proto"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
)

// snapshotMagic starts every file written by `cluster snapshot save`, so a restore of the
// wrong file fails with a clear error instead of a decode error deep inside.
var snapshotMagic = []byte("KIRIKAE-STATE-V1\n")

const snapshotChunk = 256 << 10

// clusterService administers the raft cluster.
type clusterService struct {
	kirikaev1.UnimplementedClusterServiceServer
	s *Server
}

func (c *clusterService) ListMembers(ctx context.Context, _ *kirikaev1.ListMembersRequest) (*kirikaev1.ListMembersResponse, error) {
	resp, err := c.s.members()
	return resp, toStatus(err)
}

func (s *Server) members() (*kirikaev1.ListMembersResponse, error) {
	servers, err := s.node.Servers()
	if err != nil {
		return nil, err
	}
	addrs := map[string]*kirikaev1.MemberAddress{}
	for _, m := range s.node.FSM().Members() {
		addrs[m.GetId()] = m
	}
	_, lid := s.node.Leader()
	resp := &kirikaev1.ListMembersResponse{LeaderId: string(lid), Term: s.node.raft.CurrentTerm(), CommitIndex: s.node.raft.CommitIndex()}
	for _, sv := range servers {
		m := &kirikaev1.Member{
			Id: string(sv.ID), RaftAddress: string(sv.Address), Suffrage: suffrage(sv.Suffrage),
			Leader: sv.ID == lid,
		}
		if a, ok := addrs[string(sv.ID)]; ok {
			m.GrpcAddress, m.HttpAddress = a.GetGrpcAddress(), a.GetHttpAddress()
		}
		resp.Members = append(resp.Members, m)
	}
	return resp, nil
}

func suffrage(s raft.ServerSuffrage) string {
	switch s {
	case raft.Voter:
		return "voter"
	case raft.Nonvoter:
		return "nonvoter"
	default:
		return "staging"
	}
}

func (c *clusterService) JoinCluster(ctx context.Context, req *kirikaev1.JoinClusterRequest) (*kirikaev1.JoinClusterResponse, error) {
	if req.GetId() == "" || req.GetRaftAddress() == "" || req.GetGrpcAddress() == "" {
		return nil, toStatus(fmt.Errorf("%w: join needs id, raft_address and grpc_address", ErrInvalidArgument))
	}
	if !c.s.node.IsLeader() {
		conn, _, err := c.s.leaderConn()
		if err != nil {
			return nil, toStatus(err)
		}
		resp, err := kirikaev1.NewClusterServiceClient(conn).JoinCluster(forwardActor(ctx), req)
		return resp, err
	}
	// Advertise the addresses first, so the new member is reachable for forwarding as
	// soon as it votes.
	if _, _, err := c.s.Propose(ctx, &kirikaev1.Command{Actor: actorOf(ctx), Payload: &kirikaev1.Command_RegisterMember{RegisterMember: req}}); err != nil {
		return nil, toStatus(err)
	}
	if err := c.s.node.AddVoter(ctx, req.GetId(), req.GetRaftAddress()); err != nil {
		return nil, toStatus(err)
	}
	resp, err := c.s.members()
	if err != nil {
		return nil, toStatus(err)
	}
	return &kirikaev1.JoinClusterResponse{Members: resp.GetMembers()}, nil
}

func (c *clusterService) RemoveMember(ctx context.Context, req *kirikaev1.RemoveMemberRequest) (*kirikaev1.RemoveMemberResponse, error) {
	if req.GetId() == "" {
		return nil, toStatus(fmt.Errorf("%w: member id is empty", ErrInvalidArgument))
	}
	if !c.s.node.IsLeader() {
		conn, _, err := c.s.leaderConn()
		if err != nil {
			return nil, toStatus(err)
		}
		return kirikaev1.NewClusterServiceClient(conn).RemoveMember(forwardActor(ctx), req)
	}
	if err := c.s.node.RemoveServer(ctx, req.GetId()); err != nil {
		return nil, toStatus(err)
	}
	if _, _, err := c.s.Propose(ctx, &kirikaev1.Command{Actor: actorOf(ctx), Payload: &kirikaev1.Command_RemoveMember{RemoveMember: req}}); err != nil {
		return nil, toStatus(err)
	}
	resp, err := c.s.members()
	if err != nil {
		return nil, toStatus(err)
	}
	return &kirikaev1.RemoveMemberResponse{Members: resp.GetMembers()}, nil
}

func (c *clusterService) SaveSnapshot(_ *kirikaev1.SaveSnapshotRequest, stream kirikaev1.ClusterService_SaveSnapshotServer) error {
	ctx := stream.Context()
	if _, err := c.s.linearizableIndex(ctx); err != nil {
		return toStatus(err)
	}
	b, idx, err := c.s.node.FSM().StateBytes()
	if err != nil {
		return toStatus(err)
	}
	data := append(append([]byte(nil), snapshotMagic...), b...)
	for off := 0; off < len(data) || off == 0; off += snapshotChunk {
		end := min(off+snapshotChunk, len(data))
		msg := &kirikaev1.SaveSnapshotResponse{Chunk: data[off:end]}
		if off == 0 {
			msg.RaftIndex = idx
		}
		if err := stream.Send(msg); err != nil {
			return err
		}
	}
	return nil
}

// DecodeSnapshot checks and decodes a file written by `cluster snapshot save`.
func DecodeSnapshot(data []byte) (*kirikaev1.State, error) {
	if !bytes.HasPrefix(data, snapshotMagic) {
		return nil, fmt.Errorf("%w: not a kirikae state snapshot (missing header %q)", ErrInvalidArgument, bytes.TrimSpace(snapshotMagic))
	}
	st := &kirikaev1.State{}
	if err := proto.Unmarshal(data[len(snapshotMagic):], st); err != nil {
		return nil, fmt.Errorf("%w: snapshot is corrupt: %w", ErrInvalidArgument, err)
	}
	return st, nil
}

func (c *clusterService) RestoreSnapshot(stream kirikaev1.ClusterService_RestoreSnapshotServer) error {
	var buf bytes.Buffer
	reqID := ""
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if msg.GetRequestId() != "" {
			reqID = msg.GetRequestId()
		}
		if buf.Len()+len(msg.GetChunk()) > 64<<20 {
			return toStatus(fmt.Errorf("%w: snapshot larger than 64 MiB", ErrInvalidArgument))
		}
		buf.Write(msg.GetChunk())
	}
	st, err := DecodeSnapshot(buf.Bytes())
	if err != nil {
		return toStatus(err)
	}
	ctx := stream.Context()
	res, idx, err := c.s.Propose(ctx, &kirikaev1.Command{
		RequestId: reqID, Actor: actorOf(ctx),
		Payload: &kirikaev1.Command_RestoreState{RestoreState: &kirikaev1.RestoreState{State: st}},
	})
	if err != nil {
		return toStatus(err)
	}
	return stream.SendAndClose(&kirikaev1.RestoreSnapshotResponse{RaftIndex: idx, State: res.GetRegion()})
}
