/**
 * The relational schema, as Kysely sees it. One schema serves SQLite and
 * PostgreSQL, so it keeps to types both spell the same way: text, integer
 * flags (0/1) instead of booleans, timestamps as ISO-8601 text (sortable),
 * JSON as text.
 */
import type { Generated } from 'kysely';

export interface AccountsTable {
  uin: string;
  app_id: string;
  name: string;
  quotas: string | null; // JSON overrides of the default quotas
  created_at: string;
}
export interface ApiKeysTable {
  secret_id: string;
  uin: string;
  secret_key_enc: string; // AES-256-GCM under the region's master key
  created_at: string;
}
export interface MetaTable {
  id: number;
  revision: number;
  next_vni: number;
  /** Next Tencent RouteId (an integer, unique in the region). */
  next_route_id: Generated<number>;
}
export interface ChangesTable {
  revision: number;
  account: string;
  kind: string;
  resource_id: string;
  op: 'create' | 'update' | 'delete';
  at: string;
  /** The API request that made the change ('' for none: a scheduler's or an agent's write). */
  request_id: Generated<string>;
}
export interface UsageTable {
  account: string;
  kind: string;
  count: number;
}
export interface IdempotencyTable {
  account: string;
  action: string;
  token: string;
  params_hash: string;
  response: string;
  created_at: string;
}
export interface TagsTable {
  account: string;
  resource_id: string;
  key: string;
  value: string;
}
export interface TasksTable {
  id: string; // the RequestId of the call that started it, as Tencent's TaskId

  account: string;
  action: string;
  status: 'RUNNING' | 'SUCCESS' | 'FAILED';
  output: string | null;
  created_at: string;
  /** The controller replica running it (controller/replicas.ts); null until one claims it. */
  owner: string | null;
  /** What the task does, as data (controller/task-work.ts), so another replica can resume it; null: not resumable. */
  work: string | null;
}
export interface ControllersTable {
  id: string;
  /** Where it serves the API (host:port). */
  endpoint: string;
  /** Where it serves agents over TCP, if it does. */
  agent_endpoint: string | null;
  pid: number;
  started_at: string;
  /** Store clock, ms since the epoch: alive until then unless renewed. */
  lease_until: number;
}
export interface RateBucketsTable {
  account: string;
  tokens: number;
  /** Store clock, ms since the epoch, of the last refill. */
  at: number;
}
export interface VpcsTable {
  id: string;
  account: string;
  name: string;
  cidr: string;
  is_default: number;
  enable_multicast: number;
  dns_servers: string; // JSON array
  domain_name: string;
  created_at: string;
  /** VXLAN network identifier, unique in the region. */
  vni: number;
}
export interface SubnetsTable {
  id: string;
  account: string;
  vpc_id: string;
  name: string;
  cidr: string;
  zone: string;
  is_default: number;
  enable_broadcast: number;
  created_at: string;
  /** The route table the subnet is associated with (its VPC's main table unless replaced). */
  route_table_id: string;
  /** The network ACL bound to the subnet; '' for none. */
  network_acl_id: string;
}
export interface SecurityGroupsTable {
  id: string;
  account: string;
  name: string;
  description: string;
  project_id: string;
  is_default: number;
  version: number;
  created_at: string;
  updated_at: string;
}
export interface SgPoliciesTable {
  sg_id: string;
  direction: 'ingress' | 'egress';
  position: number;
  protocol: string;
  port: string;
  cidr: string;
  ipv6_cidr: string;
  ref_sg_id: string;
  action: string;
  description: string;
  modified_at: string;
}
export interface InstancesTable {
  id: string;
  account: string;
  name: string;
  zone: string;
  vpc_id: string;
  subnet_id: string;
  private_ip: string;
  mac: string;
  eni_id: string;
  state: string;
  image_id: string;
  instance_type: string;
  cpu: number;
  memory: number;
  host_id: string | null;
  created_at: string;
  /** Revision at which the instance was placed on host_id; RUNNING once the host has applied it. */
  placed_revision: Generated<number>;
  uuid: Generated<string>;
  charge_type: Generated<string>;
  disable_api_termination: Generated<number>;
  /** The last action on the instance (RunInstances, AssociateSecurityGroups …), its state and RequestId. */
  latest_operation: Generated<string>;
  latest_operation_state: Generated<string>;
  latest_operation_request_id: Generated<string>;
  /** JSON echo of launch settings Weft accepts but does not enforce (SystemDisk, DataDisks, KeyIds). */
  spec: Generated<string>;
}
export interface InstanceSgsTable {
  instance_id: string;
  sg_id: string;
  position: number;
}
export interface PrivateIpsTable {
  subnet_id: string;
  ip: string;
  vpc_id: string;
  account: string;
  owner_kind: string;
  owner_id: string;
  is_primary: number;
  created_at: string;
}

export interface RouteTablesTable {
  id: string; // rtb-xxxxxxxx
  account: string;
  vpc_id: string;
  name: string;
  /** 1 for the VPC's main (default) table: created with the VPC, never deleted alone. */
  is_main: number;
  created_at: string;
}
export interface RoutesTable {
  /** RouteItemId: rti-xxxxxxxx. */
  id: string;
  /** RouteId: an integer unique in the region (meta.next_route_id). */
  route_id: number;
  route_table_id: string;
  /** Normalised IPv4 CIDR. */
  destination: string;
  /** LOCAL (the VPC's CIDR, one per table, RouteType NETD), NORMAL_CVM, PEERCONNECTION … */
  gateway_type: string;
  /** NORMAL_CVM: the instance's private IP; PEERCONNECTION: pcx-…; LOCAL: 'Local'. */
  gateway_id: string;
  description: string;
  enabled: number;
  /** USER (made by a user) or NETD (the local route). */
  route_type: string;
  created_at: string;
}
export interface NetworkAclsTable {
  id: string; // acl-xxxxxxxx
  account: string;
  vpc_id: string;
  name: string;
  created_at: string;
}
export interface AclEntriesTable {
  acl_id: string;
  direction: 'ingress' | 'egress';
  /** Order of evaluation within the direction, from 0. */
  position: number;
  /** TCP, UDP, ICMP or ALL, as given (upper case). */
  protocol: string;
  /** ALL, 80, 80-90 or 80,443 … */
  port: string;
  cidr: string;
  ipv6_cidr: string;
  /** ACCEPT or DROP. */
  action: string;
  description: string;
  modified_at: string;
}
export interface PeeringsTable {
  id: string; // pcx-xxxxxxxx
  /** The account that asked for it (owner of vpc_id). */
  account: string;
  name: string;
  vpc_id: string;
  /** Owner of peer_vpc_id: the same account, or another one that must accept. */
  peer_account: string;
  peer_vpc_id: string;
  /** PENDING, ACTIVE, REJECTED, EXPIRED … (Tencent's State). */
  state: string;
  bandwidth: number;
  created_at: string;
}

export interface AddressesTable {
  id: string; // eip-xxxxxxxx
  account: string;
  /** AddressName; '' while unnamed (answered as null, as Tencent does). */
  name: string;
  /** The public address, from one of the region's pools; unique in the region. */
  ip: string;
  /** UNBIND or BIND (Tencent's AddressStatus; Weft binds and unbinds within one transaction). */
  status: string;
  /** While bound: the instance, its network interface and the private address the EIP maps to 1:1. */
  instance_id: string | null;
  network_interface_id: string | null;
  private_ip: string | null;
  /** EIP direct connection (passthrough) asked for the current binding: 0/1. */
  direct_connection: number;
  /** InternetServiceProvider (BGP). */
  isp: string;
  /** InternetChargeType, echoed: Weft bills nothing. */
  charge_type: string;
  /** InternetMaxBandwidthOut in Mbps, for the gateways to enforce. */
  bandwidth: number;
  /** JSON of AddressChargePrepaid when charge_type is BANDWIDTH_PREPAID_BY_MONTH, echoed. */
  prepaid: string | null;
  created_at: string;
  /** While held by a NAT gateway (status BIND, instance_id null): that gateway. */
  nat_gateway_id: string | null;
}

export interface NatGatewaysTable {
  id: string; // nat-xxxxxxxx
  account: string;
  vpc_id: string;
  name: string;
  /** PENDING until its task completes, then AVAILABLE; PENDFAILURE if the task failed. */
  state: string;
  /** InternetMaxBandwidthOut, Mbps. */
  bandwidth: number;
  /** MaxConcurrentConnection. */
  max_connections: number;
  zone: string;
  /** SubnetId as given ('' if none): Tencent keeps it, deprecated. */
  subnet_id: string;
  /** The RequestId of CreateNatGateway: the task that makes it AVAILABLE. */
  task_id: string;
  /** DeletionProtectionEnabled: 0/1. */
  deletion_protection: number;
  created_at: string;
}

export interface NatSnatRulesTable {
  id: string; // snat-xxxxxxxx
  nat_gateway_id: string;
  /** SUBNET or NETWORKINTERFACE. */
  resource_type: string;
  /** The subnet or the network interface whose addresses are translated. */
  resource_id: string;
  /** The source it translates: the subnet's CIDR, or the interface's private address. */
  private_ip: string;
  /** JSON array of public addresses, each an EIP of the gateway. */
  public_ips: string;
  description: string;
  created_at: string;
}

export interface NatDnatRulesTable {
  nat_gateway_id: string;
  /** TCP or UDP. */
  protocol: string;
  public_ip: string;
  public_port: number;
  private_ip: string;
  private_port: number;
  description: string;
  created_at: string;
}

/** Per-instance and per-EIP traffic per 10 s bucket (migration 0014). */
export interface MonitorSamplesTable {
  /** An instance ID, or an EIP's address ID (eip-…). */
  resource_id: string;
  /** Bucket start, Unix seconds. */
  at: number;
  in_bytes: number;
  out_bytes: number;
  in_packets: number;
  out_packets: number;
  sg_drop_packets: number;
  acl_drop_packets: number;
}

export interface HostsTable {
  id: string; // h1, h2 …
  zone: string;
  underlay: string; // the host's underlay address (VXLAN endpoint)
  /** `host` (instances run on it) or `gateway` (public traffic: EIPs, NAT; no instances). */
  role: Generated<string>;
  token_hash: string; // sha256 of the agent's token
  applied_revision: number;
  reported_at: string | null;
  report: string | null; // JSON of the agent's last report
  created_at: string;
  /** The digest of the document at applied_revision, as the agent reported it (checked against the compiled one). */
  applied_digest: string | null;
  /** JSON of the agent's last audit (contract AuditSummary); null: none reported yet. */
  last_audit: string | null;
  /** Drift found by audits, and of it what was repaired, since the host was registered. */
  drift_found: Generated<number>;
  drift_repairs: Generated<number>;
}

/** One change an agent's audit made or failed to make (contract DriftRecord), kept for a while (agent-reports.ts). */
export interface DriftEventsTable {
  host_id: string;
  at: string;
  received_at: string;
  revision: number;
  vpc_id: string;
  ns: string | null;
  kind: string;
  what: string;
  repaired: number;
  error: string | null;
}

/** A gateway whose flow monitor is on (EnableGatewayFlowMonitor). */
export interface GatewayFlowMonitorsTable {
  gateway_id: string;
  created_at: string;
}

/** ModifyGatewayFlowQos: a cap on one private address's traffic through a gateway. */
export interface GatewayFlowQosTable {
  gateway_id: string;
  private_ip: string;
  /** Mbps; 0 blocks the address completely. */
  bandwidth: number;
  created_at: string;
}

/** The last cumulative counters a gateway node reported for one gateway and private address. */
export interface GatewayFlowCountersTable {
  host_id: string;
  gateway_id: string;
  private_ip: string;
  at: string;
  in_bytes: number;
  out_bytes: number;
  in_packets: number;
  out_packets: number;
  new_connections: number;
}

/** One node's figures for one gateway, private address and minute (`minute`: ISO time of its start). */
export interface GatewayFlowMinutesTable {
  gateway_id: string;
  minute: string;
  private_ip: string;
  host_id: string;
  in_bytes: number;
  out_bytes: number;
  in_packets: number;
  out_packets: number;
  /** The most conntrack entries seen in the minute. */
  connections: number;
  new_connections: number;
}

/**
 * A CLB instance (clb 2018-03-17; docs/load-balancers.md). Public (OPEN) ones
 * take their VIP from the region's public pools, as EIPs do (never the same
 * address as an EIP); internal ones a private address of their subnet, held
 * in `private_ips` like an instance's.
 */
export interface LoadBalancersTable {
  id: string; // lb-xxxxxxxx
  account: string;
  name: string;
  /** OPEN or INTERNAL (LoadBalancerType). */
  type: string;
  vpc_id: string;
  /** INTERNAL: the subnet its VIP is in; OPEN: ''. */
  subnet_id: string;
  vip: string;
  /** Tencent's Status: 0 creating (until every LB node holds it), 1 normal. */
  status: number;
  /** InternetAccessible.InternetMaxBandwidthOut (Mbps) of an OPEN one; null: none given. */
  bandwidth: number | null;
  project_id: number;
  /** LoadBalancerPassToTarget: 0/1. */
  pass_to_target: number;
  /** DeleteProtect (ModifyLoadBalancerAttributes): 0/1. */
  delete_protect: number;
  /** The RequestId of CreateLoadBalancer: the task that makes it normal. */
  task_id: string;
  created_at: string;
  /** The RequestId of the latest task on it (its creation, a listener or target change); it is busy while that task runs. */
  operation_id: Generated<string>;
}

/** A layer-4 listener of a load balancer: one protocol and port. */
export interface LbListenersTable {
  id: string; // lbl-xxxxxxxx
  load_balancer_id: string;
  name: string;
  /** TCP or UDP. */
  protocol: string;
  port: number;
  /** WRR (the Maglev table honours weights; LEAST_CONN is refused). */
  scheduler: string;
  session_expire_time: number;
  /**
   * JSON of the normalised HealthCheck (contract/host-document.ts
   * HealthCheckSpec plus Tencent's echo-only fields): what the LB nodes probe.
   */
  health_check: string;
  created_at: string;
}

/** A backend of a listener: an instance's private address and a port, with its weight. */
export interface LbTargetsTable {
  listener_id: string;
  load_balancer_id: string;
  instance_id: string;
  private_ip: string;
  port: number;
  /** 0–100; 0 drains (no new flows). */
  weight: number;
  created_at: string;
}

/** What each LB node's health checks last said of a target (one row per node: they never write the same row). */
export interface LbTargetHealthTable {
  listener_id: string;
  private_ip: string;
  port: number;
  host_id: string;
  /** Alive, Dead or Unknown (Tencent's HealthStatusDetail). */
  status: string;
  changed_at: string;
}

export interface DB {
  hosts: HostsTable;
  monitor_samples: MonitorSamplesTable;
  drift_events: DriftEventsTable;
  accounts: AccountsTable;
  api_keys: ApiKeysTable;
  meta: MetaTable;
  changes: ChangesTable;
  usage: UsageTable;
  idempotency: IdempotencyTable;
  tags: TagsTable;
  tasks: TasksTable;
  controllers: ControllersTable;
  rate_buckets: RateBucketsTable;
  vpcs: VpcsTable;
  subnets: SubnetsTable;
  security_groups: SecurityGroupsTable;
  sg_policies: SgPoliciesTable;
  instances: InstancesTable;
  instance_sgs: InstanceSgsTable;
  private_ips: PrivateIpsTable;
  route_tables: RouteTablesTable;
  routes: RoutesTable;
  network_acls: NetworkAclsTable;
  acl_entries: AclEntriesTable;
  peerings: PeeringsTable;
  addresses: AddressesTable;
  nat_gateways: NatGatewaysTable;
  nat_snat_rules: NatSnatRulesTable;
  nat_dnat_rules: NatDnatRulesTable;
  gateway_flow_monitors: GatewayFlowMonitorsTable;
  gateway_flow_qos: GatewayFlowQosTable;
  gateway_flow_counters: GatewayFlowCountersTable;
  gateway_flow_minutes: GatewayFlowMinutesTable;
  load_balancers: LoadBalancersTable;
  lb_listeners: LbListenersTable;
  lb_targets: LbTargetsTable;
  lb_target_health: LbTargetHealthTable;
  net_detects: NetDetectsTable;
  net_detect_results: NetDetectResultsTable;
  underlay_links: UnderlayLinksTable;
  flow_logs: FlowLogsTable;
  flow_log_records: FlowLogRecordsTable;
}

/** A network detection (CreateNetDetect): probes from a subnet to up to two addresses through a next hop. */
export interface NetDetectsTable {
  id: string; // netd-xxxxxxxx
  account: string;
  vpc_id: string;
  subnet_id: string;
  name: string;
  description: string;
  /** JSON array of the destination addresses (DetectDestinationIp), normalised. */
  destinations: string;
  /** NORMAL_CVM, PEERCONNECTION, NAT or NONEXTHOP. */
  next_hop_type: string;
  /** The instance address, pcx-… or nat-…; '' for NONEXTHOP. */
  next_hop_destination: string;
  created_at: string;
}

/** The latest probe of one destination of a detection by one host's agent. */
export interface NetDetectResultsTable {
  net_detect_id: string;
  ip: string;
  host_id: string;
  sent: number;
  received: number;
  /** Mean round trip of the answered probes; null when none was. */
  rtt_ms: number | null;
  at: string;
}

/** The latest underlay probe from one host to another (full-link monitoring). */
export interface UnderlayLinksTable {
  from_host: string;
  to_host: string;
  sent: number;
  received: number;
  rtt_ms: number | null;
  at: string;
}

/** A flow log (CreateFlowLog): which ports' traffic is captured, of which kind. */
export interface FlowLogsTable {
  id: string;
  account: string;
  vpc_id: string;
  name: string;
  description: string;
  /** VPC | SUBNET | NETWORKINTERFACE */
  resource_type: string;
  resource_id: string;
  /** ACCEPT | REJECT | ALL */
  traffic_type: string;
  cloud_log_id: string;
  cloud_log_region: string;
  storage_type: string;
  enabled: number;
  created_at: string;
}

/** One flow-log record as a host reported it (Tencent's fields; start/end in Unix seconds). */
export interface FlowLogRecordsTable {
  flow_log_id: string;
  host_id: string;
  account_id: string;
  interface_id: string;
  srcaddr: string;
  dstaddr: string;
  srcport: number;
  dstport: number;
  protocol: number;
  packets: number;
  bytes: number;
  start: number;
  end: number;
  action: string;
  log_status: string;
}
