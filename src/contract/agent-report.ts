/**
 * What an agent tells the controller after each apply and audit
 * (POST …/hosts/{id}/status). The controller checks it before it counts
 * (controller/agent-reports.ts): a revision it has compiled for the host and
 * the digest of that document; only then does `appliedRevision` move (and
 * with it the instances that become RUNNING). A report the controller did
 * not take is sent again, with the drift it carries.
 */
export interface AgentReport {
  /** The revision of the document the last apply was of. */
  revision: number;
  /** The digest of that document, as the controller gave it out with it. */
  digest: string;
  ok: boolean;
  error?: string;
  changes?: number;
  /** The last full audit of the kernel against the document (absent: none yet). */
  audit?: AuditSummary;
  /** Drift found by audits since the last report the controller took, oldest first. */
  drift?: DriftRecord[];
}

export interface AuditSummary {
  /** When it ended, ISO 8601 with a zone. */
  at: string;
  /** The document the kernel was read back against, and its digest: after a successful audit, what the kernel holds. */
  revision?: number;
  digest?: string;
  ms: number;
  ok: boolean;
  /** Changes it had to make (each also a DriftRecord). */
  repairs: number;
  error?: string;
}

/**
 * One difference an audit found between the kernel and the document it had
 * applied — a change it then had to make, or failed to make.
 */
export interface DriftRecord {
  at: string;
  revision: number;
  /** The VPC (or `(gateway node)`, `(LB node)`) the change belongs to. */
  vpcId: string;
  /** The namespace it was made in; null for the root namespace. */
  ns: string | null;
  /** The kind of change (plan.ts StepKind: ip, nft, netns-add …). */
  kind: string;
  /** What was made again, as the commands said (truncated). */
  what: string;
  repaired: boolean;
  error?: string;
}

/** Most drift records one report carries; an agent keeps the newest and counts what it dropped. */
export const MAX_DRIFT_PER_REPORT = 200;

/**
 * What a gateway node counts for one private address of one NAT gateway it
 * carries (POST …/hosts/{id}/flows, body GatewayFlowReport). Byte, packet and
 * new-connection figures are cumulative since the node started counting (a
 * counter that goes down means the node started again from 0); `connections`
 * is the conntrack entries of the address now. The controller turns a node's
 * consecutive samples into per-minute figures (core/flow-minutes.ts).
 */
export interface GatewayFlowSample {
  natGatewayId: string;
  privateIp: string;
  /** When the counters were read, ISO 8601 with a zone (`2026-12-02T17:09:27.123Z`). */
  at: string;
  inBytes: number;
  outBytes: number;
  inPackets: number;
  outPackets: number;
  connections: number;
  newConnections: number;
}

export interface GatewayFlowReport {
  flows: GatewayFlowSample[];
}

/**
 * The controller's answer to a GatewayFlowReport it accepted (a malformed
 * report is answered 400 and nothing of it is kept): how many samples it
 * took (repeats of samples it had are among them, and change nothing), and
 * the gateways whose samples it dropped (deleted: the node's document is
 * behind).
 */
export interface GatewayFlowAnswer {
  accepted: number;
  unknownGateways: string[];
}

/**
 * What an LB node's health checks say of the targets it probes
 * (POST …/hosts/{id}/health, body LbHealthReport): the whole current state,
 * sent when any target's status changes and again every 30 s. `Unknown`: not
 * yet probed to a verdict. The controller keeps one row per node and target;
 * a target is healthy when any node that reports finds it Alive.
 */
export interface LbHealthReport {
  targets: { listenerId: string; ip: string; port: number; status: 'Alive' | 'Dead' | 'Unknown' }[];
}

/**
 * What a host's agent measured (POST …/hosts/{id}/probes, body ProbeReport):
 * its NetDetect probes (one entry per detection and destination it probes:
 * ICMP echoes from the subnet's gateway address in the VPC's router, through
 * the detection's next hop) and its underlay probes (one per tunnel peer, by
 * underlay address, from the host's own underlay context). `rttMs`: mean
 * round trip of the echoes answered, absent when none was.
 */
export interface ProbeReport {
  at: string;
  netDetects: { netDetectId: string; ip: string; sent: number; received: number; rttMs?: number }[];
  underlay: { underlay: string; sent: number; received: number; rttMs?: number }[];
}

/**
 * What a host's agent reads from the kernel for one instance port
 * (POST …/hosts/{id}/counters, body InstanceCounterReport): cumulative
 * counters (a counter that goes down started again from 0: a recreated port
 * or counting table). `in`/`out` are from the instance's side: out is what
 * it sent (the router end of its veth received), in what it was sent. Drops
 * are packets of or to the instance that the security groups or the network
 * ACLs dropped (agent/instance-counters.ts).
 */
export interface InstanceCounterSample {
  instanceId: string;
  /** When the counters were read, ISO 8601 with a zone. */
  at: string;
  inBytes: number;
  outBytes: number;
  inPackets: number;
  outPackets: number;
  sgDropPackets: number;
  aclDropPackets: number;
}

/**
 * What a gateway node counts for one elastic IP it carries (cumulative, as
 * above): out is what the EIP's instance sent to the internet through this
 * node, in what the internet sent to the EIP through it.
 */
export interface EipCounterSample {
  publicIp: string;
  at: string;
  inBytes: number;
  outBytes: number;
  inPackets: number;
  outPackets: number;
}

export interface InstanceCounterReport {
  instances: InstanceCounterSample[];
  /** On a gateway node: its EIPs' counters. */
  eips?: EipCounterSample[];
  /** Conntrack entries of each VPC router namespace of the host (nf_conntrack_count is per namespace). */
  conntrack: { vpcId: string; entries: number }[];
}
