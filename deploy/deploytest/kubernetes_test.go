package deploytest

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// kinds are the API types the manifests may hold; any other kind is refused, so that a
// typo in apiVersion or kind cannot slip through undecoded.
var kinds = map[string]func() any{
	"v1/Namespace":                  func() any { return &corev1.Namespace{} },
	"v1/ServiceAccount":             func() any { return &corev1.ServiceAccount{} },
	"v1/ConfigMap":                  func() any { return &corev1.ConfigMap{} },
	"v1/Service":                    func() any { return &corev1.Service{} },
	"v1/PersistentVolumeClaim":      func() any { return &corev1.PersistentVolumeClaim{} },
	"apps/v1/StatefulSet":           func() any { return &appsv1.StatefulSet{} },
	"apps/v1/Deployment":            func() any { return &appsv1.Deployment{} },
	"policy/v1/PodDisruptionBudget": func() any { return &policyv1.PodDisruptionBudget{} },
}

// object is one decoded document of a manifest file.
type object struct {
	doc  int // 1-based, in the file
	kind string
	obj  any
	meta metav1.ObjectMeta
}

var docSep = regexp.MustCompile(`(?m)^---[ \t]*$`)

// decodeManifest decodes every document of a YAML file strictly into its k8s.io/api
// type, as the API server does: duplicate keys, unknown fields and fields in the wrong
// case are errors, and so is a kind not in kinds.
func decodeManifest(name, text string) ([]object, error) {
	var objs []object
	var errs []error
	for i, doc := range docSep.Split(text, -1) {
		js, err := yaml.YAMLToJSONStrict([]byte(doc))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s document %d: %w", name, i+1, err))
			continue
		}
		if string(js) == "null" {
			continue // comments only
		}
		var tm metav1.TypeMeta
		if err := json.Unmarshal(js, &tm); err != nil {
			errs = append(errs, fmt.Errorf("%s document %d: %w", name, i+1, err))
			continue
		}
		newObj, ok := kinds[tm.APIVersion+"/"+tm.Kind]
		if !ok {
			errs = append(errs, fmt.Errorf("%s document %d: unexpected apiVersion %q kind %q", name, i+1, tm.APIVersion, tm.Kind))
			continue
		}
		obj := newObj()
		strict, err := sigsjson.UnmarshalStrict(js, obj, sigsjson.DisallowDuplicateFields, sigsjson.DisallowUnknownFields)
		if err == nil {
			err = errors.Join(strict...)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s document %d (%s): %w", name, i+1, tm.Kind, err))
			continue
		}
		var om struct {
			Metadata metav1.ObjectMeta `json:"metadata"`
		}
		if err := json.Unmarshal(js, &om); err != nil {
			errs = append(errs, err)
			continue
		}
		objs = append(objs, object{doc: i + 1, kind: tm.Kind, obj: obj, meta: om.Metadata})
	}
	if len(objs) == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("%s: no objects", name))
	}
	return objs, errors.Join(errs...)
}

func only[T any](objs []object) ([]*T, error) {
	var out []*T
	for _, o := range objs {
		if v, ok := o.obj.(*T); ok {
			out = append(out, v)
		}
	}
	if len(out) != 1 {
		var zero T
		return out, fmt.Errorf("want exactly one %T, found %d", zero, len(out))
	}
	return out, nil
}

func all[T any](objs []object) []*T {
	var out []*T
	for _, o := range objs {
		if v, ok := o.obj.(*T); ok {
			out = append(out, v)
		}
	}
	return out
}

// checkNames checks that every object has a valid name and the kirikae namespace (a
// Namespace aside), and valid label values: what the API server would refuse.
func checkNames(objs []object) []error {
	var errs []error
	for _, o := range objs {
		where := fmt.Sprintf("document %d (%s %q)", o.doc, o.kind, o.meta.Name)
		for _, msg := range validation.IsDNS1123Subdomain(o.meta.Name) {
			errs = append(errs, fmt.Errorf("%s: name: %s", where, msg))
		}
		if o.kind != "Namespace" && o.meta.Namespace != "kirikae" {
			errs = append(errs, fmt.Errorf("%s: namespace %q, want kirikae", where, o.meta.Namespace))
		}
		for k, v := range o.meta.Labels {
			for _, msg := range validation.IsValidLabelValue(v) {
				errs = append(errs, fmt.Errorf("%s: label %s: %s", where, k, msg))
			}
		}
	}
	return errs
}

// checkPod checks what every pod template must keep, whatever runs in it.
func checkPod(where string, spec corev1.PodSpec) []error {
	var errs []error
	podNonRoot := spec.SecurityContext != nil && spec.SecurityContext.RunAsNonRoot != nil && *spec.SecurityContext.RunAsNonRoot
	for i, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
		at := fmt.Sprintf("%s container %s", where, c.Name)
		req, lim := c.Resources.Requests, c.Resources.Limits
		if req.Cpu().IsZero() || req.Memory().IsZero() || lim.Memory().IsZero() {
			errs = append(errs, fmt.Errorf("%s: resources need cpu and memory requests and a memory limit", at))
		}
		sc := c.SecurityContext
		switch {
		case sc == nil:
			errs = append(errs, fmt.Errorf("%s: no securityContext", at))
		default:
			if !podNonRoot && (sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot) {
				errs = append(errs, fmt.Errorf("%s: runAsNonRoot is not true", at))
			}
			if sc.RunAsNonRoot != nil && !*sc.RunAsNonRoot {
				errs = append(errs, fmt.Errorf("%s: runAsNonRoot is false", at))
			}
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				errs = append(errs, fmt.Errorf("%s: readOnlyRootFilesystem is not true", at))
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				errs = append(errs, fmt.Errorf("%s: allowPrivilegeEscalation is not false", at))
			}
			if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
				errs = append(errs, fmt.Errorf("%s: capabilities must drop ALL and add none", at))
			}
			if sc.Privileged != nil && *sc.Privileged {
				errs = append(errs, fmt.Errorf("%s: privileged", at))
			}
		}
		if i < len(spec.InitContainers) {
			continue // init containers run to completion: no probes
		}
		if c.ReadinessProbe == nil || c.LivenessProbe == nil {
			errs = append(errs, fmt.Errorf("%s: needs a readiness and a liveness probe", at))
		}
		for kind, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe, "startup": c.StartupProbe} {
			if p == nil {
				continue
			}
			for _, port := range probePorts(p) {
				if _, ok := containerPort(c, port); !ok {
					errs = append(errs, fmt.Errorf("%s: %s probe port %s is not a declared container port", at, kind, port.String()))
				}
			}
		}
	}
	return errs
}

func probePorts(p *corev1.Probe) []intstr.IntOrString {
	switch {
	case p.HTTPGet != nil:
		return []intstr.IntOrString{p.HTTPGet.Port}
	case p.TCPSocket != nil:
		return []intstr.IntOrString{p.TCPSocket.Port}
	case p.GRPC != nil:
		return []intstr.IntOrString{intstr.FromInt32(p.GRPC.Port)}
	}
	return nil
}

// containerPort finds a port by name or number among the container's declared ports.
func containerPort(c corev1.Container, port intstr.IntOrString) (corev1.ContainerPort, bool) {
	for _, p := range c.Ports {
		if (port.Type == intstr.String && p.Name == port.StrVal) || (port.Type == intstr.Int && p.ContainerPort == port.IntVal) {
			return p, true
		}
	}
	return corev1.ContainerPort{}, false
}

// addrPort is the port of a HOST:PORT flag value.
func addrPort(addr string) int32 {
	i := strings.LastIndex(addr, ":")
	n, err := strconv.Atoi(addr[i+1:])
	if i < 0 || err != nil {
		return -1
	}
	return int32(n)
}

// volumeAt returns the volume mounted at the directory holding file (or at file itself).
func volumeAt(c corev1.Container, vols []corev1.Volume, file string) (corev1.VolumeMount, *corev1.Volume) {
	var best corev1.VolumeMount
	for _, m := range c.VolumeMounts {
		if (file == m.MountPath || strings.HasPrefix(file, m.MountPath+"/")) && len(m.MountPath) > len(best.MountPath) {
			best = m
		}
	}
	for i := range vols {
		if vols[i].Name == best.Name {
			return best, &vols[i]
		}
	}
	return best, nil
}

// commandLine is what the container runs, the shell script of the StatefulSet included.
func commandLine(c corev1.Container) string {
	return strings.Join(append(slices.Clone(c.Command), c.Args...), " ")
}

// checkFlagsIn reports flags of the command line that `kirikae sub` lacks.
func checkFlagsIn(has flagChecker, at, sub, cmdline string) []error {
	if unknown := checkFlags(has, sub, longFlags(cmdline)); len(unknown) > 0 {
		return []error{fmt.Errorf("%s: kirikae %s has no %s", at, sub, strings.Join(unknown, ", "))}
	}
	return nil
}

// checkControlPlane checks control-plane.yaml's invariants: the quorum's.
func checkControlPlane(has flagChecker, objs []object) error {
	errs := checkNames(objs)
	sets, err := only[appsv1.StatefulSet](objs)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	ss := sets[0]
	pods := labels.Set(ss.Spec.Template.Labels)
	at := "StatefulSet " + ss.Name
	if r := ss.Spec.Replicas; r == nil || *r < 3 || *r%2 == 0 {
		errs = append(errs, fmt.Errorf("%s: replicas must be odd and at least 3 (a quorum that survives a node), got %v", at, derefOr(r, -1)))
	}
	if sel, err := metav1.LabelSelectorAsSelector(ss.Spec.Selector); err != nil || !sel.Matches(pods) {
		errs = append(errs, fmt.Errorf("%s: selector does not select its own pod template (%v)", at, err))
	}
	if ss.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
		errs = append(errs, fmt.Errorf("%s: podManagementPolicy %q: after a full stop, OrderedReady waits for a ready pod-0, which needs a quorum", at, ss.Spec.PodManagementPolicy))
	}

	// The headless Service that gives the nodes their names, and every Service's ports.
	var peer *corev1.Service
	containers := ss.Spec.Template.Spec.Containers
	for _, svc := range all[corev1.Service](objs) {
		if !labels.SelectorFromSet(svc.Spec.Selector).Matches(pods) || len(svc.Spec.Selector) == 0 {
			errs = append(errs, fmt.Errorf("Service %s does not select the StatefulSet's pods", svc.Name))
		}
		for _, p := range svc.Spec.Ports {
			if !slices.ContainsFunc(containers, func(c corev1.Container) bool { _, ok := containerPort(c, p.TargetPort); return ok }) {
				errs = append(errs, fmt.Errorf("Service %s port %s: targetPort %s is not a declared container port", svc.Name, p.Name, p.TargetPort.String()))
			}
		}
		if svc.Name == ss.Spec.ServiceName {
			peer = svc
		}
	}
	switch {
	case peer == nil:
		errs = append(errs, fmt.Errorf("%s: serviceName %q is not a Service in the file", at, ss.Spec.ServiceName))
	case peer.Spec.ClusterIP != corev1.ClusterIPNone:
		errs = append(errs, fmt.Errorf("Service %s: the StatefulSet's service must be headless", peer.Name))
	case !peer.Spec.PublishNotReadyAddresses:
		errs = append(errs, fmt.Errorf("Service %s: publishNotReadyAddresses must be true, or nodes without a leader cannot find each other to elect one", peer.Name))
	}

	pdbs, err := only[policyv1.PodDisruptionBudget](objs)
	if err != nil {
		errs = append(errs, err)
	} else {
		pdb := pdbs[0]
		if pdb.Spec.MaxUnavailable == nil || *pdb.Spec.MaxUnavailable != intstr.FromInt32(1) {
			errs = append(errs, fmt.Errorf("PodDisruptionBudget %s: maxUnavailable must be 1", pdb.Name))
		}
		if sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector); err != nil || !sel.Matches(pods) {
			errs = append(errs, fmt.Errorf("PodDisruptionBudget %s: its selector does not select the StatefulSet's pods (%v)", pdb.Name, err))
		}
	}

	// Spread: never two nodes on a host, and over zones.
	spec := ss.Spec.Template.Spec
	selects := func(ls *metav1.LabelSelector) bool {
		sel, err := metav1.LabelSelectorAsSelector(ls)
		return err == nil && sel.Matches(pods)
	}
	var hostApart bool
	if a := spec.Affinity; a != nil && a.PodAntiAffinity != nil {
		for _, term := range a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
			hostApart = hostApart || (term.TopologyKey == "kubernetes.io/hostname" && selects(term.LabelSelector))
		}
	}
	if !hostApart {
		errs = append(errs, fmt.Errorf("%s: needs a required pod anti-affinity on kubernetes.io/hostname against its own pods", at))
	}
	var zoneSpread bool
	for _, c := range spec.TopologySpreadConstraints {
		zoneSpread = zoneSpread || (c.TopologyKey == "topology.kubernetes.io/zone" && c.WhenUnsatisfiable == corev1.DoNotSchedule &&
			c.MaxSkew == 1 && c.MinDomains != nil && *c.MinDomains >= 3 && selects(c.LabelSelector))
	}
	if !zoneSpread {
		errs = append(errs, fmt.Errorf("%s: needs a zone spread (maxSkew 1, minDomains 3, DoNotSchedule) over its own pods", at))
	}

	claims := map[string]bool{}
	for _, c := range ss.Spec.VolumeClaimTemplates {
		claims[c.Name] = true
	}
	var server *corev1.Container
	for i := range containers {
		if strings.Contains(commandLine(containers[i]), "kirikae server") {
			server = &containers[i]
		}
	}
	errs = append(errs, checkPod(at, spec)...)
	if server == nil {
		return errors.Join(append(errs, fmt.Errorf("%s: no container runs kirikae server", at))...)
	}
	cmd := commandLine(*server)
	errs = append(errs, checkFlagsIn(has, at, "server", cmd)...)

	// Probes on the real health: /healthz on the HTTP port, the gRPC health service.
	httpAddr, _ := flagValue(cmd, "http-addr")
	grpcAddr, _ := flagValue(cmd, "grpc-addr")
	if p := server.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" || !probeOn(*server, p.HTTPGet.Port, addrPort(httpAddr)) {
		errs = append(errs, fmt.Errorf("%s: readiness must be GET /healthz on the --http-addr port (%s)", at, httpAddr))
	}
	grpcHealth := regexp.MustCompile(`:` + strconv.Itoa(int(addrPort(grpcAddr))) + `\b.*grpc\.health\.v1\.Health/Check`)
	if p := server.LivenessProbe; p == nil || p.Exec == nil || !grpcHealth.MatchString(strings.Join(p.Exec.Command, " ")) {
		errs = append(errs, fmt.Errorf("%s: liveness must ask grpc.health.v1.Health/Check on the --grpc-addr port (%s)", at, grpcAddr))
	}

	// State on a claim, certificates from a Secret, roles from a ConfigMap of the file.
	dd, _ := flagValue(cmd, "data-dir")
	if m, v := volumeAt(*server, spec.Volumes, dd); v != nil || !claims[m.Name] {
		errs = append(errs, fmt.Errorf("%s: --data-dir %s is not on a volumeClaimTemplate", at, dd))
	}
	errs = append(errs, checkSecretFlags(at, *server, spec.Volumes, cmd)...)
	roles, _ := flagValue(cmd, "roles")
	if _, v := volumeAt(*server, spec.Volumes, roles); v == nil || v.ConfigMap == nil ||
		!slices.ContainsFunc(all[corev1.ConfigMap](objs), func(cm *corev1.ConfigMap) bool {
			_, ok := cm.Data[path.Base(roles)]
			return cm.Name == v.ConfigMap.Name && ok
		}) {
		errs = append(errs, fmt.Errorf("%s: --roles %s is not a key of a ConfigMap in the file", at, roles))
	}
	return errors.Join(errs...)
}

func checkSecretFlags(at string, c corev1.Container, vols []corev1.Volume, cmd string) []error {
	var errs []error
	for _, f := range []string{"tls-ca", "tls-cert", "tls-key"} {
		file, ok := flagValue(cmd, f)
		if _, v := volumeAt(c, vols, file); !ok || v == nil || v.Secret == nil {
			errs = append(errs, fmt.Errorf("%s: --%s %s is not in a Secret volume", at, f, file))
		}
	}
	return errs
}

// probeOn reports whether port names a declared container port numbered want.
func probeOn(c corev1.Container, port intstr.IntOrString, want int32) bool {
	p, ok := containerPort(c, port)
	return ok && p.ContainerPort == want
}

func derefOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// checkAgent checks one region's instance of agent.yaml.
func checkAgent(has flagChecker, region string, objs []object) error {
	errs := checkNames(objs)
	deps, err := only[appsv1.Deployment](objs)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	d := deps[0]
	at := "Deployment " + d.Name
	pods := labels.Set(d.Spec.Template.Labels)
	if sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector); err != nil || !sel.Matches(pods) {
		errs = append(errs, fmt.Errorf("%s: selector does not select its own pod template (%v)", at, err))
	}
	if r := derefOr(d.Spec.Replicas, 1); r != 1 {
		errs = append(errs, fmt.Errorf("%s: replicas %d: one agent per region and data dir", at, r))
	}
	if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		errs = append(errs, fmt.Errorf("%s: strategy %q: a rolling update would run two agents on one data volume", at, d.Spec.Strategy.Type))
	}
	spec := d.Spec.Template.Spec
	sas := all[corev1.ServiceAccount](objs)
	i := slices.IndexFunc(sas, func(sa *corev1.ServiceAccount) bool { return sa.Name == spec.ServiceAccountName })
	switch {
	case i < 0:
		errs = append(errs, fmt.Errorf("%s: serviceAccountName %q is not a ServiceAccount in the file", at, spec.ServiceAccountName))
	case !strings.HasPrefix(sas[i].Annotations["eks.amazonaws.com/role-arn"], "arn:aws:iam::"):
		errs = append(errs, fmt.Errorf("ServiceAccount %s: no eks.amazonaws.com/role-arn annotation (IRSA)", sas[i].Name))
	}
	errs = append(errs, checkPod(at, spec)...)
	if len(spec.Containers) != 1 {
		return errors.Join(append(errs, fmt.Errorf("%s: want one container", at))...)
	}
	c := spec.Containers[0]
	cmd := commandLine(c)
	if len(c.Args) == 0 || c.Args[0] != "agent" {
		return errors.Join(append(errs, fmt.Errorf("%s: the container does not run kirikae agent", at))...)
	}
	errs = append(errs, checkFlagsIn(has, at, "agent", cmd)...)
	if r, _ := flagValue(cmd, "region"); r != region {
		errs = append(errs, fmt.Errorf("%s: --region %q, want %q", at, r, region))
	}
	if cert, _ := flagValue(cmd, "tls-cert"); path.Base(cert) != "agent-"+region+".pem" {
		errs = append(errs, fmt.Errorf("%s: --tls-cert %s is not this region's certificate", at, cert))
	}
	httpAddr, _ := flagValue(cmd, "http-addr")
	if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" || !probeOn(c, p.HTTPGet.Port, addrPort(httpAddr)) {
		errs = append(errs, fmt.Errorf("%s: readiness must be GET /healthz on the --http-addr port (%s)", at, httpAddr))
	}
	if p := c.LivenessProbe; p == nil || p.HTTPGet == nil || !probeOn(c, p.HTTPGet.Port, addrPort(httpAddr)) {
		errs = append(errs, fmt.Errorf("%s: liveness must be an HTTP GET on the --http-addr port (%s)", at, httpAddr))
	}
	dd, _ := flagValue(cmd, "data-dir")
	pvcs := all[corev1.PersistentVolumeClaim](objs)
	if _, v := volumeAt(c, spec.Volumes, dd); v == nil || v.PersistentVolumeClaim == nil ||
		!slices.ContainsFunc(pvcs, func(p *corev1.PersistentVolumeClaim) bool { return p.Name == v.PersistentVolumeClaim.ClaimName }) {
		errs = append(errs, fmt.Errorf("%s: --data-dir %s is not on a PersistentVolumeClaim of the file", at, dd))
	}
	errs = append(errs, checkSecretFlags(at, c, spec.Volumes, cmd)...)
	return errors.Join(errs...)
}

// placeholderRE is how the manifests mark what a user must set.
var placeholderRE = regexp.MustCompile(`<[a-z][a-z-]*>`)

// exampleValues fill the placeholders for the tests; none is anyone's real value.
func exampleValues(region string) map[string]string {
	return map[string]string{
		"<region>":                  region,
		"<account-id>":              "000000000000",
		"<agent-role-name>":         "kirikae-agent-" + region,
		"<image>":                   "registry.example/kirikae:test",
		"<control-plane-addresses>": "cp0.example:7002,cp1.example:7002,cp2.example:7002",
	}
}

// instantiate fills the placeholders in the YAML (comments are left as they are) and
// fails if one it does not know remains.
func instantiate(t *testing.T, text string, values map[string]string) string {
	t.Helper()
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		for k, v := range values {
			l = strings.ReplaceAll(l, k, v)
		}
		if p := placeholderRE.FindString(l); p != "" {
			t.Fatalf("line %d: placeholder %s has no example value", i+1, p)
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}

func manifestNames(t *testing.T) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(deployDir, "kubernetes", "*.yaml"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no manifests in deploy/kubernetes (%v)", err)
	}
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	return names
}

func TestKubernetesManifestsDecodeStrictly(t *testing.T) {
	for _, name := range manifestNames(t) {
		t.Run(name, func(t *testing.T) {
			objs, err := decodeManifest(name, readDeployFile(t, filepath.Join("kubernetes", name)))
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range objs {
				t.Logf("document %d: %s %s", o.doc, o.kind, o.meta.Name)
			}
		})
	}
}

func TestKubernetesControlPlaneInvariants(t *testing.T) {
	text := instantiate(t, readDeployFile(t, "kubernetes/control-plane.yaml"), exampleValues("xx-test-1"))
	objs, err := decodeManifest("control-plane.yaml", text)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkControlPlane(kirikaeFlags(t), objs); err != nil {
		t.Fatal(err)
	}
}

// TestKubernetesAgentPerRegion makes the agent's manifest for two regions, as a user does
// for the two of a pair, and checks each and that they do not collide.
func TestKubernetesAgentPerRegion(t *testing.T) {
	raw := readDeployFile(t, "kubernetes/agent.yaml")
	// Every placeholder is explained in the header, and the IRSA role is one of them.
	var header, body strings.Builder
	for _, l := range strings.Split(raw, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			header.WriteString(l + "\n")
		} else {
			body.WriteString(l + "\n")
		}
	}
	for _, p := range placeholderRE.FindAllString(body.String(), -1) {
		if !regexp.MustCompile(`(?m)^#\s+` + regexp.QuoteMeta(p) + `\s+\S`).MatchString(header.String()) {
			t.Errorf("placeholder %s is not explained in agent.yaml's header", p)
		}
	}
	if !strings.Contains(raw, "eks.amazonaws.com/role-arn: arn:aws:iam::<account-id>:role/<agent-role-name>") {
		t.Error("the IRSA role ARN must be placeholders the user sets")
	}

	has := kirikaeFlags(t)
	names := map[string]string{}
	for _, region := range []string{"xx-test-1", "xx-test-2"} {
		objs, err := decodeManifest("agent.yaml", instantiate(t, raw, exampleValues(region)))
		if err != nil {
			t.Fatal(err)
		}
		if err := checkAgent(has, region, objs); err != nil {
			t.Errorf("region %s: %v", region, err)
		}
		for _, o := range objs {
			key := o.kind + "/" + o.meta.Name
			if other, ok := names[key]; ok {
				t.Errorf("%s is made for both %s and %s", key, other, region)
			}
			names[key] = region
		}
	}
}

// TestKubernetesChecksRefuseBrokenManifests shows each check failing on a broken copy.
func TestKubernetesChecksRefuseBrokenManifests(t *testing.T) {
	has := kirikaeFlags(t)
	cp := instantiate(t, readDeployFile(t, "kubernetes/control-plane.yaml"), exampleValues("xx-test-1"))
	agent := instantiate(t, readDeployFile(t, "kubernetes/agent.yaml"), exampleValues("xx-test-1"))
	const pdbSel = "  maxUnavailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: kirikae-server"
	cases := []struct {
		name, file, old, new, want string
	}{
		// Strict decoding.
		{"unknown field", "cp", "  serviceName: kirikae-peer\n", "  serviceName: kirikae-peer\n  replica: 3\n", `unknown field "spec.replica"`},
		{"field in the wrong case", "cp", "containerPort: 7001", "ContainerPort: 7001", "unknown field"},
		{"duplicate key", "cp", "  replicas: 3\n", "  replicas: 3\n  replicas: 5\n", "already set"},
		{"wrong type", "cp", "  replicas: 3\n", "  replicas: three\n", "cannot unmarshal"},
		{"unknown kind", "cp", "kind: PodDisruptionBudget", "kind: PodDisruptionBudgets", "unexpected apiVersion"},
		{"unknown field in the agent", "agent", "      serviceAccountName:", "      serviceAccount_Name:", "unknown field"},
		// Invariants of the control plane.
		{"even replicas", "cp", "  replicas: 3\n", "  replicas: 4\n", "replicas must be odd"},
		{"ordered start", "cp", "podManagementPolicy: Parallel", "podManagementPolicy: OrderedReady", "podManagementPolicy"},
		{"PDB selects other pods", "cp", pdbSel, strings.Replace(pdbSel, "kirikae-server", "kirikae-agent", 1), "PodDisruptionBudget"},
		{"PDB lets two go", "cp", "maxUnavailable: 1", "maxUnavailable: 2", "maxUnavailable must be 1"},
		{"peers hidden while not ready", "cp", "publishNotReadyAddresses: true", "publishNotReadyAddresses: false", "publishNotReadyAddresses"},
		{"probe on an undeclared port", "cp", "              path: /healthz\n              port: http", "              path: /healthz\n              port: metrics", "not a declared container port"},
		{"writable root filesystem", "cp", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", "readOnlyRootFilesystem"},
		{"no memory limit", "cp", "            limits:\n              memory: 1Gi\n", "", "memory limit"},
		{"no host anti-affinity", "cp", "topologyKey: kubernetes.io/hostname", "topologyKey: kubernetes.io/os", "anti-affinity"},
		{"misspelt server flag", "cp", "--roles /etc", "--role /etc", "has no --role"},
		{"data dir off the volume", "cp", "--data-dir /var/lib/kirikae/server", "--data-dir /tmp/kirikae", "--data-dir"},
		{"liveness not on gRPC health", "cp", "\"${POD_IP}:7002\" grpc.health.v1.Health/Check | grep -q '\"status\"'\n            periodSeconds: 10",
			"\"${POD_IP}:7002\" list\n            periodSeconds: 10", "liveness"},
		// Invariants of an agent.
		{"two agents", "agent", "  replicas: 1\n", "  replicas: 2\n", "replicas 2"},
		{"rolling agent", "agent", "    type: Recreate", "    type: RollingUpdate", "strategy"},
		{"no IRSA role", "agent", "eks.amazonaws.com/role-arn:", "eks.amazonaws.com/role:", "IRSA"},
		{"agent runs as root", "agent", "            runAsNonRoot: true\n            readOnly", "            runAsNonRoot: false\n            readOnly", "runAsNonRoot is false"},
		{"misspelt agent flag", "agent", "--control-plane=", "--controlplane=", "has no --controlplane"},
		{"readiness off /healthz", "agent", "            httpGet:\n              path: /healthz", "            httpGet:\n              path: /metrics", "readiness must be GET /healthz"},
		{"another region's certificate", "agent", "--tls-cert=/etc/kirikae/tls/agent-xx-test-1.pem", "--tls-cert=/etc/kirikae/tls/agent-xx-test-2.pem", "not this region's certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.file == "cp" {
				objs, derr := decodeManifest("control-plane.yaml", mustReplace(t, cp, tc.old, tc.new))
				err = derr
				if derr == nil {
					err = checkControlPlane(has, objs)
				}
			} else {
				objs, derr := decodeManifest("agent.yaml", mustReplace(t, agent, tc.old, tc.new))
				err = derr
				if derr == nil {
					err = checkAgent(has, "xx-test-1", objs)
				}
			}
			if err == nil {
				t.Fatal("the broken manifest passed")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("the failure does not mention %q:\n%v", tc.want, err)
			}
		})
	}
}
