package controlplane

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/raft"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	kirikaev1 "github.com/kirikae/kirikae/gen/kirikae/v1"
	"github.com/kirikae/kirikae/security"
)

// Config is everything `kirikae server` takes.
type Config struct {
	ID       string
	DataDir  string
	RaftAddr string
	// RaftAdvertise is the address other nodes dial for raft traffic, when it is not the
	// one RaftAddr listens on: behind NAT, a port forward or a proxy. Empty means RaftAddr.
	RaftAdvertise string
	GRPCAddr      string
	// GRPCAdvertise is the gRPC address other nodes, agents and operators are told to dial
	// (a follower forwards to the leader's, an agent is sent to it), when it is not the
	// one GRPCAddr binds: a pod IP behind a Service name, NAT, a load balancer per node.
	// Empty means the address GRPCAddr listens on. The server certificate must name it.
	GRPCAdvertise string
	HTTPAddr      string
	// Bootstrap forms a new one-node cluster; ignored when the data dir holds state.
	Bootstrap bool
	// Join is the gRPC address of any member; ignored when the data dir holds state.
	Join string

	TLSCA, TLSCert, TLSKey string
	// TLSReloadEvery is how often the TLS files are checked for changes, which are then
	// loaded without a restart (0: only on ReloadCerts); DefaultTLSReloadEvery from the CLI.
	TLSReloadEvery time.Duration
	// ReloadCerts reloads the TLS files at each receive, changed or not (SIGHUP).
	ReloadCerts <-chan struct{}
	// RolesFile maps operator names to roles; empty means only the operator "admin" is admin.
	RolesFile string
	// Dev runs plaintext, single node, loopback only.
	Dev      bool
	Timeouts RaftTimeouts
	Logger   *slog.Logger
	// Planner compiles plans into runs; without it the server refuses declarations.
	Planner Planner
	// IsolatedWorld marks a control plane whose agents drive only simulated AWS (the
	// isolated world a tabletop drill runs in): it alone accepts a tabletop declaration. A
	// production control plane refuses one, since its agents would really run the plan.
	IsolatedWorld bool
	// EvaluatePlans are evaluated against live AWS by the leader every EvaluateEvery (0
	// means DefaultEvaluateEvery); their findings show in readiness and in
	// PlanCheckService.ListPlanEvaluations.
	EvaluatePlans []EvaluatedPlan
	EvaluateEvery time.Duration
	// UI serves the read-only web view (--ui): UIOff (or empty) serves none, UIMTLS serves it
	// on UIAddr to operators' browsers with their certificates, UIOpen under /ui/ on
	// HTTPAddr to anyone. See UIMode.
	UI     UIMode
	UIAddr string
	// TimeScale is a simulated world's (simworld): the simulated AWS time that passes per
	// wall-clock second is 1/TimeScale. The web view charts runs in plan time, as the
	// reports of such a world do. 0 means 1, real AWS; no flag sets it.
	TimeScale float64
}

func (c *Config) validate() error {
	if err := c.Timeouts.validate(); err != nil {
		return err
	}
	if err := c.UI.validate(c.Dev, c.UIAddr); err != nil {
		return err
	}
	if c.TLSReloadEvery < 0 {
		return fmt.Errorf("%w: --tls-reload-every %s must not be negative", ErrInvalidArgument, c.TLSReloadEvery)
	}
	for _, f := range []struct{ flag, v string }{
		{"--id", c.ID}, {"--data-dir", c.DataDir}, {"--raft-addr", c.RaftAddr}, {"--grpc-addr", c.GRPCAddr}, {"--http-addr", c.HTTPAddr},
	} {
		if f.v == "" {
			return fmt.Errorf("%w: %s is required", ErrInvalidArgument, f.flag)
		}
	}
	for _, f := range []struct{ flag, v, who string }{{"--raft-advertise", c.RaftAdvertise, "other nodes"}, {"--grpc-advertise", c.GRPCAdvertise, "nodes, agents and operators"}} {
		if f.v == "" {
			continue
		}
		host, port, err := net.SplitHostPort(f.v)
		if err != nil || host == "" || port == "" || port == "0" {
			return fmt.Errorf("%w: %s %q must be HOST:PORT that %s can dial (not port 0)", ErrInvalidArgument, f.flag, f.v, f.who)
		}
	}
	if c.Dev {
		for _, f := range []struct{ flag, v string }{{"--raft-addr", c.RaftAddr}, {"--raft-advertise", c.RaftAdvertise}, {"--grpc-addr", c.GRPCAddr}, {"--grpc-advertise", c.GRPCAdvertise}, {"--http-addr", c.HTTPAddr}} {
			if f.v == "" {
				continue
			}
			if err := security.RequireLoopback(f.v); err != nil {
				return fmt.Errorf("%w: --dev serves plaintext and only on loopback: %s: %w", ErrInvalidArgument, f.flag, err)
			}
		}
		if c.Join != "" {
			return fmt.Errorf("%w: --dev is a single node; it cannot --join", ErrInvalidArgument)
		}
		if c.TLSCA != "" || c.TLSCert != "" || c.TLSKey != "" {
			return fmt.Errorf("%w: --dev is plaintext; drop --tls-ca/--tls-cert/--tls-key or drop --dev", ErrInvalidArgument)
		}
		return nil
	}
	if c.TLSCA == "" || c.TLSCert == "" || c.TLSKey == "" {
		return fmt.Errorf("%w: --tls-ca, --tls-cert and --tls-key are required (mTLS on every connection); `kirikae certs init` makes them, or use --dev on loopback", ErrInvalidArgument)
	}
	if c.Bootstrap && c.Join != "" {
		return fmt.Errorf("%w: give --bootstrap on the first node or --join on the others, not both", ErrInvalidArgument)
	}
	return nil
}

// Instance is a running control-plane server.
type Instance struct {
	Node     *Node
	Server   *Server
	GRPCAddr string
	HTTPAddr string
	RaftAddr string
	// UIAddr is the address of the --ui=mtls listener; empty without one.
	UIAddr string

	grpcSrv *grpc.Server
	httpSrv *http.Server
	uiSrv   *http.Server
	cancel  context.CancelFunc
	done    chan struct{}
}

// Run starts a server and blocks until ctx is cancelled, then shuts down cleanly.
func Run(ctx context.Context, cfg Config) error {
	inst, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	<-ctx.Done()
	return inst.Close()
}

// Start starts a server and returns once it listens. Addresses ending in :0 are resolved
// in the returned Instance.
func Start(ctx context.Context, cfg Config) (_ *Instance, err error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("node", cfg.ID)
	var roles *security.Roles
	certs, err := loadCerts(cfg, logger) // nil in dev mode
	if err != nil {
		return nil, err
	}
	if cfg.RolesFile != "" {
		if roles, err = security.LoadRoles(cfg.RolesFile); err != nil {
			return nil, fmt.Errorf("--roles: %w", err)
		}
	}

	var closers []func()
	defer func() {
		if err != nil {
			for i := len(closers) - 1; i >= 0; i-- {
				closers[i]()
			}
		}
	}()
	listen := func(flag, addr string) (net.Listener, error) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", flag, addr, err)
		}
		closers = append(closers, func() { ln.Close() })
		return ln, nil
	}
	raftLn, err := listen("--raft-addr", cfg.RaftAddr)
	if err != nil {
		return nil, err
	}
	grpcLn, err := listen("--grpc-addr", cfg.GRPCAddr)
	if err != nil {
		return nil, err
	}
	httpLn, err := listen("--http-addr", cfg.HTTPAddr)
	if err != nil {
		return nil, err
	}
	var uiLn net.Listener
	if cfg.UI == UIMTLS {
		if uiLn, err = listen("--ui-addr", cfg.UIAddr); err != nil {
			return nil, err
		}
	}

	var advertise net.Addr = raftLn.Addr()
	if cfg.RaftAdvertise != "" {
		advertise = advertisedAddr(cfg.RaftAdvertise)
	}
	var layer raft.StreamLayer
	if cfg.Dev {
		if layer, err = security.NewPlainStreamLayer(raftLn, advertise); err != nil {
			return nil, fmt.Errorf("--raft-addr: %w", err)
		}
	} else {
		layer = security.NewReloadingTLSStreamLayer(raftLn, advertise, certs)
	}
	node, err := NewNode(NodeConfig{
		ID: cfg.ID, DataDir: cfg.DataDir, Layer: layer, Timeouts: cfg.Timeouts, Logger: logger,
		Bootstrap: cfg.Bootstrap || cfg.Dev,
	})
	if err != nil {
		return nil, err
	}
	closers = append(closers, func() { node.Close() })
	hadState := node.HasState()

	srv := NewServer(node, nil, logger)
	srv.peerCred = peerCredentials(certs)
	srv.planner = cfg.Planner
	srv.roles = roles
	srv.isolated = cfg.IsolatedWorld
	srv.uiOpen = cfg.UI == UIOpen
	srv.timeScale = cfg.TimeScale
	srv.scheduled.plans = cfg.EvaluatePlans
	if cfg.EvaluateEvery > 0 {
		srv.scheduled.interval = cfg.EvaluateEvery
	}
	guard := &Guard{Auth: security.Authenticator{Dev: cfg.Dev}, Roles: roles, refusals: srv.refusals}
	opts := []grpc.ServerOption{grpc.ChainUnaryInterceptor(guard.Unary, redactUnary), grpc.ChainStreamInterceptor(guard.Stream, redactStream)}
	if certs != nil {
		opts = append(opts, grpc.Creds(certs.Credentials()))
	}
	gs := grpc.NewServer(opts...)
	kirikaev1.RegisterActiveRegionServiceServer(gs, &activeRegionService{s: srv})
	kirikaev1.RegisterRegionAdminServiceServer(gs, &regionAdminService{s: srv})
	kirikaev1.RegisterAuditServiceServer(gs, &auditService{s: srv})
	kirikaev1.RegisterClusterServiceServer(gs, &clusterService{s: srv})
	kirikaev1.RegisterInternalServiceServer(gs, &internalService{s: srv})
	kirikaev1.RegisterAgentServiceServer(gs, &agentService{s: srv})
	kirikaev1.RegisterAgentAdminServiceServer(gs, &agentAdminService{s: srv})
	kirikaev1.RegisterRunServiceServer(gs, &runService{s: srv})
	kirikaev1.RegisterSystemServiceServer(gs, &systemService{s: srv})
	kirikaev1.RegisterPlanCheckServiceServer(gs, &planCheckService{s: srv})
	hs := newHealthService(node) // answers what Node.Health decides, as /healthz does
	healthpb.RegisterHealthServer(gs, hs)
	reflection.Register(gs)

	hsrv := &http.Server{Handler: srv.HTTPHandler(), ReadHeaderTimeout: 10 * time.Second}
	ictx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if certs != nil {
		go certs.Watch(ictx, cfg.TLSReloadEvery, cfg.ReloadCerts)
	}
	inst := &Instance{
		Node: node, Server: srv, GRPCAddr: grpcLn.Addr().String(), HTTPAddr: httpLn.Addr().String(),
		RaftAddr: advertise.String(), grpcSrv: gs, httpSrv: hsrv, cancel: cancel, done: make(chan struct{}),
	}
	go func() {
		if err := gs.Serve(grpcLn); err != nil {
			logger.Error("grpc server stopped", "err", err)
		}
	}()
	go func() {
		if err := hsrv.Serve(httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("http server stopped", "err", err)
		}
	}()
	if uiLn != nil {
		usrv, conf := srv.uiServer(certs, logger)
		inst.uiSrv, inst.UIAddr = usrv, uiLn.Addr().String()
		go func() {
			if err := usrv.Serve(tls.NewListener(uiLn, conf)); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("web view server stopped", "err", err)
			}
		}()
	}
	go srv.lead(ictx)
	go srv.auditRefusals(ictx, cfg.ID)
	go hs.watch(ictx)
	go srv.telemetry.verifyAudit(ictx, node.FSM())
	grpcAdvertise := inst.GRPCAddr
	if cfg.GRPCAdvertise != "" {
		grpcAdvertise = cfg.GRPCAdvertise
	}
	self := &kirikaev1.JoinClusterRequest{Id: cfg.ID, RaftAddress: inst.RaftAddr, GrpcAddress: grpcAdvertise, HttpAddress: inst.HTTPAddr}
	go func() {
		defer close(inst.done)
		if cfg.Join != "" && !hadState {
			if err := joinCluster(ictx, cfg.Join, peerCredentials(certs), self, logger); err != nil {
				logger.Error("join failed", "err", err)
				return
			}
		}
		srv.advertise(ictx, self)
	}()
	logger.Info("control plane listening", "grpc", inst.GRPCAddr, "http", inst.HTTPAddr, "raft", inst.RaftAddr,
		"dev", cfg.Dev, "had_state", hadState)
	switch {
	case inst.UIAddr != "":
		logger.Info("web view (mTLS: operators' certificates)", "url", "https://"+inst.UIAddr+"/ui/")
	case srv.uiOpen:
		logger.Warn("web view open to anyone who can reach the HTTP port (--ui=open)", "url", "http://"+inst.HTTPAddr+"/ui/")
	}
	return inst, nil
}

// advertisedAddr is a raft address as the operator wrote it: a host name stays a name, so
// the peers' TLS checks it against the certificate.
type advertisedAddr string

func (a advertisedAddr) Network() string { return "tcp" }
func (a advertisedAddr) String() string  { return string(a) }

// Close stops serving and shuts raft down.
func (i *Instance) Close() error {
	i.cancel()
	<-i.done
	stopped := make(chan struct{})
	go func() { i.grpcSrv.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(3 * time.Second):
		i.grpcSrv.Stop() // watch streams never end on their own
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = i.httpSrv.Shutdown(ctx)
	if i.uiSrv != nil {
		_ = i.uiSrv.Shutdown(ctx)
	}
	i.Server.Close()
	return i.Node.Close()
}

// lead runs the orchestrator while this node leads, and drops agent streams when it stops,
// so agents reconnect to the new leader.
func (s *Server) lead(ctx context.Context) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	var stop context.CancelFunc
	for {
		leading := s.node.IsLeader()
		switch {
		case leading && stop == nil:
			var octx context.Context
			octx, stop = context.WithCancel(ctx)
			s.hub.mu.Lock()
			s.hub.leaderSince = time.Now()
			s.hub.mu.Unlock()
			go (&orchestrator{s: s, endReadiness: map[string]bool{}, teardown: map[string]bool{}, cutback: map[string]bool{}, retry: make(chan string),
				backoff: map[attemptKey]proposalBackoff{}, preflights: map[attemptKey]bool{}, verdicts: make(chan preflightVerdict, 16)}).run(octx)
			go s.evaluateOnSchedule(octx)
		case !leading && stop != nil:
			stop()
			stop = nil
			s.hub.closeAll()
		}
		select {
		case <-ctx.Done():
			if stop != nil {
				stop()
			}
			s.hub.closeAll()
			return
		case <-t.C:
		}
	}
}

// advertise makes sure the replicated member list holds this node's current addresses, so
// followers can forward to it when it leads. It retries until it succeeds or ctx ends.
func (s *Server) advertise(ctx context.Context, self *kirikaev1.JoinClusterRequest) {
	for {
		for _, m := range s.node.FSM().Members() {
			if m.GetId() == self.GetId() && m.GetGrpcAddress() == self.GetGrpcAddress() && m.GetHttpAddress() == self.GetHttpAddress() {
				return
			}
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, _, err := s.Propose(pctx, &kirikaev1.Command{Actor: "spiffe://kirikae/server/" + self.GetId(),
			Payload: &kirikaev1.Command_RegisterMember{RegisterMember: self}})
		cancel()
		if err == nil {
			return
		}
		s.log.Debug("advertise addresses: retrying", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// joinCluster asks a member to add this node, retrying until it is accepted.
func joinCluster(ctx context.Context, addr string, creds credentials.TransportCredentials, self *kirikaev1.JoinClusterRequest, logger *slog.Logger) error {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return fmt.Errorf("--join %s: %w", addr, err)
	}
	defer conn.Close()
	c := kirikaev1.NewClusterServiceClient(conn)
	backoff := 100 * time.Millisecond
	for {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := c.JoinCluster(cctx, self)
		cancel()
		if err == nil {
			logger.Info("joined cluster", "via", addr)
			return nil
		}
		logger.Warn("join: retrying", "via", addr, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("--join %s: %w (last error: %w)", addr, ctx.Err(), err)
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}
