// Package awssim is a simulated AWS for kirikae's demo, tabletop drills, integration tests
// and benchmarks. It owns nothing but its own in-memory state; it must never reach real AWS.
//
// # One listener, both regions
//
// A single http.Handler ([Sim.Handler]) serves every region and service. The region and the
// service come from the SigV4 credential scope in the Authorization header
// (Credential=AKID/DATE/REGION/SERVICE/aws4_request). Signatures are not verified, so any
// static credentials work. Point an SDK at it with BaseEndpoint, or the AWS CLI with
// --endpoint-url / AWS_ENDPOINT_URL.
//
// Each service speaks its real wire protocol, so the real aws-sdk-go-v2 clients and the AWS
// CLI v2 parse the answers: awsQuery (RDS, ElastiCache, ELBv2, STS, SNS), ec2Query (EC2),
// restXml (Route 53, S3), restJson1 (EFS, Backup), awsJson1_1 (ECS, Secrets Manager, Health)
// and rpcv2Cbor (CloudWatch). Errors carry the real codes and shapes callers test for
// idempotency (DBInstanceAlreadyExists, ReplicationGroupAlreadyExists, InvalidChangeBatch, ...).
// Bad input gets a 4xx AWS error, never a 500.
//
// # Time
//
// Resources move through their real statuses (creating → backing-up → available, PENDING →
// INSYNC, ...). Every transition is stored as a timeline of (status, time) when the mutating
// call arrives and is evaluated lazily on each read, so there are no background goroutines
// and a read is a pure function of the state and the clock. Durations default to the seed
// runbook's 所要時間 (see [DefaultDurations]), are multiplied by Options.TimeScale, and can be
// overridden per operation through Options.Durations.
//
// # The simulated application
//
// Behind each ALB the kaigo application answers under /_app/<region>/: GET health returns
// {"status":"ok"}, POST login returns a token, and /items supports create, read, update and
// delete. It answers only while that region's ALB has at least one healthy target; otherwise
// it returns 503, as an ALB with no healthy targets does. /_app/dns/<record-name>/ follows the
// Route 53 record (alias → ALB → region), so a plan can use the public name's path.
//
// # Control API
//
// Under /_sim/ (JSON): GET journal, POST reset, POST region-down {"region","mode"} with mode
// refuse|hang, POST region-up, POST fault {"service","operation","rate","code","throttle"},
// POST slow {"service","operation","latency","factor"}, POST health-event to open and
// POST health-event/close to close AWS Health events, GET state. The same operations exist on
// [Sim] for tests.
package awssim
