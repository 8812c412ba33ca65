/**
 * Weft extensions of the vpc service (not Tencent actions), over the packet
 * tracer (src/dataplane/sim): TraceVpcFlow (one packet's path, hop by hop),
 * DescribeVpcReachability (the instance × instance matrix of a VPC) and
 * PreviewSecurityGroupPolicyChange (the flows a proposed policy change would
 * turn, before it is applied). They read the documents the controller
 * serves the hosts of the caller's instances (its distribution cache, through
 * ctx.documents; compiled from the store without one), reduced to the
 * caller's VPCs (api/vpc/region-view.ts): only the caller's instances and
 * VPCs can be traced or seen. TraceVpcFlow and DescribeVpcReachability also
 * say which of the hosts involved have not applied their document yet.
 * TraceVpcFlow without SourceInstanceId traces from the internet: from
 * SourceIpAddress to one of the caller's public addresses (an EIP, a NAT
 * gateway's EIP, a public load balancer's VIP) or instances by their EIP. A
 * trace through a load balancer says what it chose in `LoadBalancer` (and its
 * `lb` hop): the LB node, the listener, the Maglev slot and the backend.
 * Reference: docs/trace.md.
 */
import { accountView, pendingHosts, storedPolicies, worldOf, type PendingHost } from './region-view.js';
import { parseIp } from '../../core/cidr.js';
import { POLICY_ACTIONS, type PolicyRequest } from '../../core/sg-edits.js';
import { PolicyError } from '../../core/sg-policy.js';
import { TraceError, type L4, type TraceQuery, type TraceResult } from '../../trace/model.js';
import { reachability } from '../../trace/reach.js';
import { renderMatrix, renderTrace, renderWhatIf } from '../../trace/render.js';
import { trace } from '../../trace/trace.js';
import { whatIf, type FlowVerdict, type Probe } from '../../trace/what-if.js';
import { instancesOf } from '../../trace/world.js';
import { defineAction, type Ctx } from '../action.js';
import { ApiError, invalidValue, missingParameter } from '../errors.js';
import { any, arr, bool, int, obj, opt, str } from '../params.js';
import { findSecurityGroup, findVpc, ID } from './lookup.js';
import { policySetSchema } from './security-groups.js';

/** Most rows (and columns) a reachability matrix answers in one call. */
export const MAX_MATRIX_INSTANCES = 500;

/** Runs tracer code, turning its error values into API errors. */
function traced<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof PolicyError) throw new ApiError(e.code, e.message);
    if (e instanceof TraceError) {
      const code = { 'unknown-instance': 'ResourceNotFound', 'not-placed': 'UnsupportedOperation', 'bad-address': 'InvalidParameterValue.Malformed', 'bad-query': 'InvalidParameterValue' }[e.code];
      throw new ApiError(code, e.message);
    }
    throw e;
  }
}

/** The tracer's camelCase data as the API spells fields (PascalCase), all the way down. */
export function pascal(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(pascal);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k[0]!.toUpperCase() + k.slice(1), pascal(x)]));
  return v;
}

function protocolOf(text: string, path = 'Protocol'): L4 {
  const p = text.trim().toLowerCase();
  if (p !== 'tcp' && p !== 'udp' && p !== 'icmp') throw invalidValue(path, `\`${text}\` is not one of TCP, UDP, ICMP`);
  return p;
}

function checkPort(protocol: L4, port: number | undefined, path = 'Port') {
  if (protocol === 'icmp' && port !== undefined)
    throw new ApiError('InvalidParameter.Coexist', `The parameter \`${path}\` cannot be given with Protocol ICMP: ports exist only for TCP and UDP.`);
  if (protocol !== 'icmp' && port === undefined) throw missingParameter(path);
}

/** An instance of the caller's, by ID (a foreign one answers as a missing one). */
async function ownInstance(ctx: Ctx, id: string, param: string) {
  if (!ID.instance.test(id)) throw new ApiError('InvalidParameterValue.Malformed', `\`${id}\` in \`${param}\` is not a valid ID; expected the form ins-xxxxxxxx.`);
  const row = await ctx.db
    .selectFrom('instances')
    .select(['id', 'vpc_id', 'private_ip', 'host_id'])
    .where('id', '=', id)
    .where('account', '=', ctx.account.uin)
    .executeTakeFirst();
  if (!row) throw new ApiError('ResourceNotFound', `The instance \`${id}\` (\`${param}\`) does not exist.`);
  return row;
}

const port = () => opt(int({ min: 1, max: 65535 }));

/** Hosts whose agents lag the traced documents, as the response lists them. */
const pendingHostSet = (pending: readonly PendingHost[]) =>
  pending.map((p) => ({ HostId: p.hostId, DocumentRevision: p.documentRevision, AppliedRevision: p.appliedRevision }));

/** The lines `Text` ends with when hosts lag: the answer is the desired state, not yet the kernel's. */
function pendingText(pending: readonly PendingHost[]): string {
  return pending
    .map((p) =>
      p.appliedRevision > 0
        ? `note: ${p.hostId} has applied revision ${p.appliedRevision} of ${p.documentRevision}; the kernel there may still act on the older state\n`
        : `note: ${p.hostId} has not applied any document yet (revision ${p.documentRevision} is waiting); the kernel there may not carry this state at all\n`,
    )
    .join('');
}

/** Every host a trace (and its reply) passed through. */
const hostsOf = (r: TraceResult): string[] => [...r.hops.map((h) => h.hostId), ...(r.reply ? hostsOf(r.reply) : [])];

export const traceVpcFlow = defineAction({
  service: 'vpc',
  name: 'TraceVpcFlow',
  params: obj({
    SourceInstanceId: opt(str()),
    DestinationInstanceId: opt(str()),
    DestinationIpAddress: opt(str()),
    Protocol: str(),
    Port: port(),
    SourcePort: port(),
    SourceIpAddress: opt(str()),
    Reply: opt(bool()),
  }),
  async run(ctx, p) {
    const protocol = protocolOf(p.Protocol);
    checkPort(protocol, p.Port);
    if (p.DestinationInstanceId !== undefined && p.DestinationIpAddress !== undefined)
      throw new ApiError('InvalidParameter.Coexist', 'The parameters `DestinationInstanceId` and `DestinationIpAddress` cannot be given together: name the destination one way.');
    if (p.DestinationInstanceId === undefined && p.DestinationIpAddress === undefined) throw missingParameter('DestinationInstanceId');
    for (const [k, v] of [['DestinationIpAddress', p.DestinationIpAddress], ['SourceIpAddress', p.SourceIpAddress]] as const)
      if (v !== undefined && parseIp(v) === undefined) throw invalidValue(k, `\`${v}\` is not an IPv4 address`, 'InvalidParameterValue.Malformed');
    if (p.SourceInstanceId === undefined) {
      if (p.SourceIpAddress === undefined) throw missingParameter('SourceInstanceId');
      return traceFromInternet(ctx, { ...p, SourceIpAddress: p.SourceIpAddress }, protocol);
    }
    const source = await ownInstance(ctx, p.SourceInstanceId, 'SourceInstanceId');
    if (!source.host_id)
      throw new ApiError('UnsupportedOperation', `The instance \`${source.id}\` is not placed on a host yet (PENDING): it has no port to trace from.`);
    let to = p.DestinationIpAddress!;
    let note: { instanceId: string; text: string } | undefined;
    if (p.DestinationInstanceId !== undefined) {
      const d = await ownInstance(ctx, p.DestinationInstanceId, 'DestinationInstanceId');
      to = d.private_ip;
      if (d.vpc_id !== source.vpc_id)
        note = { instanceId: d.id, text: `${d.id} is in ${d.vpc_id}, not in ${source.vpc_id}: VPCs are isolated, so its address ${to} is looked up in ${source.vpc_id}` };
      else if (!d.host_id) note = { instanceId: d.id, text: `${d.id} is not placed on a host yet: its address ${to} has no port anywhere` };
      else to = d.id;
    }
    // Only the source's VPC matters: the packet never leaves it.
    const view = await accountView(ctx.store, ctx.account.uin, { vpcIds: [source.vpc_id], documents: ctx.documents });
    const q: TraceQuery = { from: source.id, to, protocol, port: p.Port, sourcePort: p.SourcePort, sourceIp: p.SourceIpAddress, reply: p.Reply };
    const result = traced(() => trace(worldOf(view), q));
    if (note) {
      result.query.to = note.instanceId;
      result.destination.instanceId = note.instanceId;
      result.destination.note = note.text;
    }
    const pending = await pendingHosts(ctx.store, view, hostsOf(result));
    return {
      ...(pascal(result) as Record<string, unknown>),
      Revision: view.revision,
      PendingHostSet: pendingHostSet(pending),
      Text: renderTrace(result) + pendingText(pending),
    };
  },
});

interface FlowParams {
  SourceIpAddress: string;
  DestinationInstanceId?: string;
  DestinationIpAddress?: string;
  Port?: number;
  SourcePort?: number;
  Reply?: boolean;
}

/**
 * What the store knows of a public address of the caller's that no gateway
 * may hold: allocated but not bound, or bound to an instance that is not
 * running (the compiler puts only running instances' EIPs on the gateways).
 */
async function publicAddressNote(ctx: Ctx, ip: string): Promise<{ vpcId?: string; note?: string }> {
  const a = await ctx.db.selectFrom('addresses').select(['id', 'status', 'instance_id', 'nat_gateway_id']).where('ip', '=', ip).where('account', '=', ctx.account.uin).executeTakeFirst();
  if (!a) return {};
  if (a.nat_gateway_id) {
    const n = await ctx.db.selectFrom('nat_gateways').select('vpc_id').where('id', '=', a.nat_gateway_id).executeTakeFirst();
    return { vpcId: n?.vpc_id };
  }
  if (!a.instance_id) return { note: `${ip} (${a.id}) is allocated to the account but not bound to an instance or a NAT gateway: no gateway translates it` };
  const i = await ctx.db.selectFrom('instances').select(['vpc_id', 'state', 'host_id']).where('id', '=', a.instance_id).executeTakeFirst();
  if (!i) return {};
  const running = i.state !== 'STOPPED' && !!i.host_id;
  return { vpcId: i.vpc_id, ...(running ? {} : { note: `${ip} (${a.id}) is bound to ${a.instance_id}, which is ${i.host_id ? i.state : 'not placed on a host'}: only a running instance's EIP is on the gateways` }) };
}

/** TraceVpcFlow from an internet address to one of the caller's public addresses. */
async function traceFromInternet(ctx: Ctx, p: FlowParams, protocol: L4) {
  let to = p.DestinationIpAddress!;
  let vpcIds: string[] | undefined;
  if (p.DestinationInstanceId !== undefined) {
    const d = await ownInstance(ctx, p.DestinationInstanceId, 'DestinationInstanceId');
    const eip = await ctx.db.selectFrom('addresses').select('ip').where('instance_id', '=', d.id).executeTakeFirst();
    if (!eip) throw new ApiError('UnsupportedOperation', `The instance \`${d.id}\` has no EIP: from the internet only public addresses can be reached.`);
    to = eip.ip;
    vpcIds = [d.vpc_id];
  }
  // A public VIP of one of the caller's load balancers leads into its VPC; any other address is looked up as an EIP.
  const lb = await ctx.db.selectFrom('load_balancers').select('vpc_id').where('vip', '=', to).where('account', '=', ctx.account.uin).where('type', '=', 'OPEN').executeTakeFirst();
  const known = lb ? { vpcId: lb.vpc_id } : await publicAddressNote(ctx, to);
  if (known.vpcId) vpcIds = [known.vpcId];
  const note = 'note' in known ? known.note : undefined;
  // The VPC the address leads into; an address that is none of the caller's is traced over all its VPCs (and goes nowhere).
  const view = await accountView(ctx.store, ctx.account.uin, { vpcIds, documents: ctx.documents });
  const q: TraceQuery = { from: p.SourceIpAddress, to, protocol, port: p.Port, sourcePort: p.SourcePort, reply: p.Reply };
  const result = traced(() => trace(worldOf(view), q));
  if (p.DestinationInstanceId !== undefined) result.destination.instanceId = p.DestinationInstanceId;
  if (note) result.destination.note = note;
  const pending = await pendingHosts(ctx.store, view, hostsOf(result));
  return {
    ...(pascal(result) as Record<string, unknown>),
    Revision: view.revision,
    PendingHostSet: pendingHostSet(pending),
    Text: renderTrace(result) + pendingText(pending),
  };
}

export const describeVpcReachability = defineAction({
  service: 'vpc',
  name: 'DescribeVpcReachability',
  params: obj({
    VpcId: str(),
    Protocol: str(),
    Port: port(),
    InstanceIds: opt(arr(str(), { max: MAX_MATRIX_INSTANCES })),
  }),
  async run(ctx, p) {
    const protocol = protocolOf(p.Protocol);
    checkPort(protocol, p.Port);
    const vpc = await findVpc(ctx.db, ctx.account.uin, p.VpcId);
    p.InstanceIds?.forEach((id, i) => {
      if (!ID.instance.test(id)) throw new ApiError('InvalidParameterValue.Malformed', `\`${id}\` at \`InstanceIds.${i}\` is not a valid ID; expected the form ins-xxxxxxxx.`);
      if (p.InstanceIds!.indexOf(id) !== i) throw new ApiError('InvalidParameterValue.Duplicate', `The instance \`${id}\` is given twice in \`InstanceIds\`.`);
    });
    if (p.InstanceIds?.length) {
      const rows = await ctx.db.selectFrom('instances').select('id').where('account', '=', ctx.account.uin).where('vpc_id', '=', vpc.id).where('id', 'in', p.InstanceIds).execute();
      const found = new Set(rows.map((r) => r.id));
      const missing = p.InstanceIds.filter((id) => !found.has(id));
      if (missing.length) throw new ApiError('ResourceNotFound', `The instance(s) ${missing.map((m) => `\`${m}\``).join(', ')} do(es) not exist in \`${vpc.id}\`.`);
    }
    const view = await accountView(ctx.store, ctx.account.uin, { vpcIds: [vpc.id], documents: ctx.documents });
    const world = worldOf(view);
    // Instances that are not placed yet have no port: they are left out of the matrix (and said to be).
    const placed = p.InstanceIds?.filter((id) => world.instances.has(id));
    const size = placed?.length ?? instancesOf(world, vpc.id).length;
    if (size > MAX_MATRIX_INSTANCES)
      throw new ApiError('LimitExceeded', `${vpc.id} has ${size} placed instances; a matrix covers at most ${MAX_MATRIX_INSTANCES}: choose them with \`InstanceIds\`.`);
    const m = traced(() => reachability(world, { vpcId: vpc.id, protocol, port: p.Port, instanceIds: placed }));
    const unplacedIds = p.InstanceIds?.filter((id) => !world.instances.has(id)) ?? [];
    const pending = await pendingHosts(ctx.store, view, m.instances.map((i) => i.hostId));
    return {
      VpcId: m.vpcId,
      Protocol: protocol.toUpperCase(),
      ...(m.port !== undefined ? { Port: m.port } : {}),
      InstanceSet: m.instances.map((i) => ({ InstanceId: i.instanceId, PrivateIpAddress: i.ip, SubnetId: i.subnetId, HostId: i.hostId })),
      Matrix: m.cells,
      PairCount: m.pairs,
      ReachableCount: m.reachable,
      UnplacedInstanceIds: unplacedIds,
      Revision: view.revision,
      PendingHostSet: pendingHostSet(pending),
      Text: renderMatrix(m) + pendingText(pending),
    };
  },
});

/** The union of the five policy actions' parameters. */
const policyRequestSchema = obj({
  SecurityGroupId: str(),
  SecurityGroupPolicySet: policySetSchema,
  OriginalSecurityGroupPolicySet: opt(policySetSchema),
  UpdateType: opt(str({ oneOf: ['Policy', 'Priority', 'Both'] })),
  SortPolicys: opt(bool()),
});

const flowVerdict = (v: FlowVerdict) => ({
  Verdict: v.verdict,
  Code: v.code,
  Reason: v.reason,
  ...(v.securityGroupId ? { SecurityGroupId: v.securityGroupId, PolicyIndex: v.policyIndex } : {}),
});

export const previewSecurityGroupPolicyChange = defineAction({
  service: 'vpc',
  name: 'PreviewSecurityGroupPolicyChange',
  params: obj({
    Action: str({ oneOf: POLICY_ACTIONS }),
    Request: any(),
    Probes: opt(arr(obj({ Protocol: str(), Port: port() }), { max: 20 })),
  }),
  async run(ctx, p) {
    const request = policyRequestSchema.parse(p.Request, 'Request') as PolicyRequest;
    const probes: Probe[] = (p.Probes ?? [{ Protocol: 'TCP', Port: 22 }]).map((x, i) => {
      const protocol = protocolOf(x.Protocol, `Probes.${i}.Protocol`);
      checkPort(protocol, x.Port, `Probes.${i}.Port`);
      return { protocol, ...(x.Port !== undefined ? { port: x.Port } : {}) };
    });
    const group = await findSecurityGroup(ctx.db, ctx.account.uin, request.SecurityGroupId, 'Request.SecurityGroupId');
    // Referenced groups must be the caller's, as the action itself requires.
    const set = request.SecurityGroupPolicySet;
    const refs = [...(set.Ingress ?? []), ...(set.Egress ?? [])].map((x) => x.SecurityGroupId?.trim()).filter((x): x is string => !!x && x !== group.id);
    if (refs.length) {
      const own = new Set(
        (await ctx.db.selectFrom('security_groups').select('id').where('account', '=', ctx.account.uin).where('id', 'in', [...new Set(refs)]).execute()).map((r) => r.id),
      );
      const missing = refs.find((r) => ID.sg.test(r) && !own.has(r));
      if (missing) throw new ApiError('ResourceNotFound', `The security group \`${missing}\` referenced in \`Request.SecurityGroupPolicySet\` does not exist.`);
    }
    const stored = (await storedPolicies(ctx.store, group.id))!;
    const view = await accountView(ctx.store, ctx.account.uin, { documents: ctx.documents });
    const r = traced(() =>
      whatIf(view.documents, {
        action: p.Action as (typeof POLICY_ACTIONS)[number],
        request,
        current: stored.lists,
        version: stored.version,
        limit: ctx.account.quotas.policyPerDirection,
        probes,
      }),
    );
    return {
      SecurityGroupId: r.securityGroupId,
      Directions: r.directions,
      BoundInstanceIds: r.boundInstances,
      Probes: r.probes.map((x) => ({ Protocol: x.protocol.toUpperCase(), ...(x.port !== undefined ? { Port: x.port } : {}) })),
      FlowsChecked: r.flowsChecked,
      ChangedFlowSet: r.changes.map((c) => ({
        VpcId: c.vpcId,
        SourceInstanceId: c.from,
        SourceIpAddress: c.fromIp,
        DestinationInstanceId: c.to,
        DestinationIpAddress: c.toIp,
        Protocol: c.protocol.toUpperCase(),
        ...(c.port !== undefined ? { Port: c.port } : {}),
        Before: flowVerdict(c.before),
        After: flowVerdict(c.after),
      })),
      ...(r.note ? { Note: r.note } : {}),
      Revision: view.revision,
      Text: renderWhatIf(r),
    };
  },
});

export const traceActions = [traceVpcFlow, describeVpcReachability, previewSecurityGroupPolicyChange];
