package controlplane

import (
	"context"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/security"
)

// access is what a method requires of its caller.
type access int

const (
	// anyone authenticated: every identity the CA vouches for, agents included. The
	// active-region read contract and the standard health and reflection services.
	anyone access = iota
	viewer
	operator
	admin
	// serverOnly is for calls that control-plane nodes make to each other.
	serverOnly
	// serverOrAdmin is for joining: a new node joins with its server certificate.
	serverOrAdmin
	// agentOnly is the agent stream; the handler checks the region.
	agentOnly
)

// policy names every method of the kirikae API. A method missing here is refused, so a new
// RPC cannot ship without a decision about who may call it.
var policy = map[string]access{
	kirikaev1.ActiveRegionService_GetActiveRegion_FullMethodName:   anyone,
	kirikaev1.ActiveRegionService_WatchActiveRegion_FullMethodName: anyone,
	kirikaev1.RegionAdminService_InitRegion_FullMethodName:         admin,
	kirikaev1.RegionAdminService_SetRegion_FullMethodName:          admin,
	kirikaev1.RegionAdminService_ListRegionHistory_FullMethodName:  viewer,
	kirikaev1.AuditService_ListAudit_FullMethodName:                viewer,
	kirikaev1.ClusterService_ListMembers_FullMethodName:            viewer,
	kirikaev1.ClusterService_JoinCluster_FullMethodName:            serverOrAdmin,
	kirikaev1.ClusterService_RemoveMember_FullMethodName:           admin,
	kirikaev1.ClusterService_SaveSnapshot_FullMethodName:           admin,
	kirikaev1.ClusterService_RestoreSnapshot_FullMethodName:        admin,
	kirikaev1.InternalService_Apply_FullMethodName:                 serverOnly,
	kirikaev1.AgentService_Connect_FullMethodName:                  agentOnly,
	kirikaev1.AgentAdminService_ListAgents_FullMethodName:          viewer,
	kirikaev1.AgentAdminService_GetReadiness_FullMethodName:        viewer,
	kirikaev1.RunService_Declare_FullMethodName:                    operator,
	kirikaev1.RunService_Cutback_FullMethodName:                    operator,
	kirikaev1.RunService_GetRun_FullMethodName:                     viewer,
	kirikaev1.RunService_ListRuns_FullMethodName:                   viewer,
	kirikaev1.RunService_WatchRun_FullMethodName:                   viewer,
	// Approve checks the approved role against the caller's roles in the handler.
	kirikaev1.RunService_Approve_FullMethodName:        viewer,
	kirikaev1.RunService_Confirm_FullMethodName:        operator,
	kirikaev1.RunService_Control_FullMethodName:        operator,
	kirikaev1.RunService_RecordTabletop_FullMethodName: operator,
	kirikaev1.InternalService_ReadIndex_FullMethodName: serverOnly,
	kirikaev1.SystemService_ApplySystem_FullMethodName: admin,
	kirikaev1.SystemService_GetSystem_FullMethodName:   viewer,
	// Evaluating makes the agents call AWS (read-only): operators and above.
	kirikaev1.PlanCheckService_EvaluatePlan_FullMethodName:        operator,
	kirikaev1.PlanCheckService_ListPlanEvaluations_FullMethodName: viewer,
}

// actorMetadataKey carries the original caller when one node forwards a call to the leader.
// It is honoured only from server identities.
const actorMetadataKey = "kirikae-actor"

type actorKey struct{}

// actorOf returns the authenticated caller stored by the interceptor.
func actorOf(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok {
		return a
	}
	return ""
}

// forwardActor carries the caller's identity on a call forwarded to the leader.
func forwardActor(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, actorMetadataKey, actorOf(ctx))
}

// Guard authenticates every call and applies the policy table.
type Guard struct {
	Auth  security.Authenticator
	Roles *security.Roles
	// refusals, when set, receives every call refused to a known caller, for the audit
	// log (refusals.go bounds how much of it reaches raft). Calls without a valid
	// certificate are not audited: there is no one to name.
	refusals *refusalLog
}

func (g *Guard) check(ctx context.Context, method string) (context.Context, error) {
	id, err := g.Auth.Identify(ctx)
	if err != nil {
		return nil, err
	}
	out, err := g.authorize(ctx, id, method)
	if err != nil && g.refusals != nil {
		g.refusals.note(time.Now(), id.String(), rpcName(method), err.Error())
	}
	return out, err
}

// rpcName is a method as the audit log and error messages name it: Service.Method.
func rpcName(method string) string {
	return strings.ReplaceAll(strings.TrimPrefix(strings.TrimPrefix(method, "/"), "kirikae.v1."), "/", ".")
}

func (g *Guard) authorize(ctx context.Context, id security.Identity, method string) (context.Context, error) {
	var err error
	need, known := policy[method]
	if !known {
		if strings.HasPrefix(method, "/grpc.health.v1.Health/") || strings.HasPrefix(method, "/grpc.reflection.") {
			need = anyone
		} else {
			return nil, fmt.Errorf("%w: %s has no access policy", security.ErrPermissionDenied, method)
		}
	}
	actor := id.String()
	// Agents speak the agent API and nothing else (health and reflection aside).
	if id.Kind == security.KindAgent && need != agentOnly && known {
		return nil, fmt.Errorf("%w: %s may only call the agent API, not %s", security.ErrPermissionDenied, id, method)
	}
	// A control-plane server calls another only to forward a request it has already
	// authorized (the original caller rides along in the metadata), so servers pass.
	if id.Kind == security.KindServer {
		need = anyone
	}
	switch need {
	case anyone:
	case viewer:
		err = g.Roles.Authorize(id, security.RoleViewer)
	case operator:
		err = g.Roles.Authorize(id, security.RoleOperator)
	case admin:
		err = g.Roles.Authorize(id, security.RoleAdmin)
	case serverOnly:
		err = security.RequireServer(id)
	case serverOrAdmin:
		if security.RequireServer(id) != nil {
			err = g.Roles.Authorize(id, security.RoleAdmin)
		}
	case agentOnly:
		if id.Kind != security.KindAgent && id.Kind != security.KindDev {
			err = fmt.Errorf("%w: %s is not an agent", security.ErrPermissionDenied, id)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w, for %s", err, rpcName(method))
	}
	// A server forwarding a call speaks for the original caller, whom it authorized.
	if security.RequireServer(id) == nil {
		if md, ok := metadata.FromIncomingContext(ctx); ok {
			if v := md.Get(actorMetadataKey); len(v) == 1 && v[0] != "" {
				actor = v[0]
			}
		}
	}
	return context.WithValue(ctx, actorKey{}, actor), nil
}

// Unary is the unary server interceptor.
func (g *Guard) Unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	ctx, err := g.check(ctx, info.FullMethod)
	if err != nil {
		return nil, toStatus(err)
	}
	return h(ctx, req)
}

// Stream is the stream server interceptor.
func (g *Guard) Stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	ctx, err := g.check(ss.Context(), info.FullMethod)
	if err != nil {
		return toStatus(err)
	}
	return h(srv, &guardedStream{ServerStream: ss, ctx: ctx})
}

type guardedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *guardedStream) Context() context.Context { return s.ctx }
