package controlplane

import (
	"context"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/redact"
)

// Secret params (plan params marked secret) stay in the replicated run, because agents
// need them in their assignments. Every answer to a client masks them, in one place: these
// interceptors copy an answer that holds a run with secrets and mask the copy. The agent
// stream and the servers' internal calls carry the real values.

// unmasked reports whether a method's answers go to agents or servers, not to people.
func unmasked(method string) bool {
	return strings.HasPrefix(method, "/"+kirikaev1.AgentService_ServiceDesc.ServiceName+"/") ||
		strings.HasPrefix(method, "/"+kirikaev1.InternalService_ServiceDesc.ServiceName+"/")
}

// masked returns m, or a copy of it with the secrets of every run in it masked.
func masked(m any) any {
	pm, ok := m.(proto.Message)
	if !ok || !redact.Has(pm) {
		return m
	}
	c := proto.Clone(pm)
	redact.Message(c)
	return c
}

// redactUnary masks secrets in unary answers.
func redactUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	resp, err := h(ctx, req)
	if err != nil || unmasked(info.FullMethod) {
		return resp, err
	}
	return masked(resp), nil
}

// redactStream masks secrets in every message a stream sends.
func redactStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if unmasked(info.FullMethod) {
		return h(srv, ss)
	}
	return h(srv, &redactingStream{ServerStream: ss})
}

type redactingStream struct{ grpc.ServerStream }

func (s *redactingStream) SendMsg(m any) error { return s.ServerStream.SendMsg(masked(m)) }
