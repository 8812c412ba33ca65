/**
 * Per-IP flow control on NAT gateways (vpc 2017-03-12): EnableGatewayFlowMonitor,
 * DisableGatewayFlowMonitor, CheckGatewayFlowMonitor,
 * DescribeGatewayFlowMonitorDetail, ModifyGatewayFlowQos, DescribeGatewayFlowQos.
 *
 * Tencent has these for NAT, VPN and direct connect gateways; Weft has NAT
 * gateways only, so a VPN or direct connect gateway ID answers as a missing
 * gateway. The flow figures are the ones gateway nodes report
 * (controller/gateway-flows.ts), summed over nodes per private address and
 * minute. What the data plane must do: docs/public-network.md "Flow monitor
 * and QoS". Every write is one transaction recording the gateway and its VPC
 * (their gateway documents carry the monitor and the caps).
 *
 * Error codes are the per-action lists of tencentcloud-sdk-go
 * vpc/v20170312/client.go (commit 144f6c8d), docs/research/public-network.md §2.7.
 */
import { containsCidr, parseCidr, parsePeer, parseIp } from '../../core/cidr.js';
import type { NatGatewayRow } from '../../store/nat-gateways.js';
import { deleteQos, flowDetail, monitoredGateways, qosPage, setFlowMonitor, setQos, type FlowColumn } from '../../store/gateway-flows.js';
import type { Write } from '../../store/store.js';
import { defineAction, type Ctx } from '../action.js';
import { page, tencentTime } from '../common.js';
import { fail, missingParameter } from '../errors.js';
import { arr, int, intish, obj, opt, paging, str } from '../params.js';
import { NAT_ID, natChanged, ownNat, requireAvailable } from './nat-gateways.js';

/** Gateway kinds Tencent's flow actions take that Weft does not have. */
const OTHER_GATEWAYS: [RegExp, string][] = [
  [/^vpn-[0-9a-z]{8}$/, 'VPN gateways'],
  [/^dcg-[0-9a-z]{8}$/, 'direct connect gateways'],
];

/**
 * A GatewayId the flow actions take: a NAT gateway's. The forms of other
 * gateways answer as missing (Weft has none); anything else is not an ID.
 */
function checkGatewayId(id: string, param: string, malformed = 'InvalidParameterValue'): string {
  for (const [form, what] of OTHER_GATEWAYS)
    if (form.test(id)) fail('ResourceNotFound', `The gateway \`${id}\` (\`${param}\`) does not exist: Weft has no ${what}; flow monitor and QoS are kept for NAT gateways (nat-xxxxxxxx).`);
  if (!NAT_ID.test(id)) fail(malformed, `\`${id}\` (\`${param}\`) is not a gateway ID; give a NAT gateway's, of the form nat-xxxxxxxx.`);
  return id;
}

/** The account's NAT gateway, for reading (another account's answers as missing). */
async function readNat(ctx: Ctx, id: string, param: string): Promise<NatGatewayRow> {
  const nat = await ctx.db.selectFrom('nat_gateways').selectAll().where('id', '=', id).where('account', '=', ctx.account.uin).executeTakeFirst();
  return nat ?? fail('ResourceNotFound', `The NAT gateway \`${id}\` (\`${param}\`) does not exist.`);
}

/** One transaction changing the account's AVAILABLE gateway: locks it, runs `fn`, records the gateway and its VPC. */
async function changeGateway(ctx: Ctx, id: string, fn: (w: Write, nat: NatGatewayRow) => Promise<void>): Promise<Record<string, never>> {
  await ctx.write(async (w) => {
    const nat = await ownNat(w, ctx, id, 'GatewayId');
    requireAvailable(nat, 'UnsupportedOperation.InvalidState');
    await fn(w, nat);
    natChanged(w, nat, 'update');
    return {};
  });
  return {};
}

/** Private addresses: IPv4, of the gateway's VPC; each once. */
function checkPrivateIps(ips: readonly string[], vpcCidr: string | undefined, param: string): string[] {
  const vpc = vpcCidr === undefined ? undefined : parseCidr(vpcCidr, false);
  ips.forEach((ip, i) => {
    if (parseIp(ip) === undefined) fail('InvalidParameterValue', `\`${ip}\` (\`${param}.${i}\`) is not an IPv4 address.`);
    if (vpc && !containsCidr(vpc, parsePeer(ip)!))
      fail('InvalidParameterValue', `\`${ip}\` (\`${param}.${i}\`) is not an address of the gateway's VPC (${vpcCidr}); give the private address of an instance in it.`);
  });
  return [...new Set(ips)];
}

const gatewayParams = obj({ GatewayId: str() });

export const enableGatewayFlowMonitor = defineAction({
  service: 'vpc',
  name: 'EnableGatewayFlowMonitor',
  params: gatewayParams,
  async run(ctx, p) {
    checkGatewayId(p.GatewayId, 'GatewayId');
    return changeGateway(ctx, p.GatewayId, async (w, nat) => void (await setFlowMonitor(w.tx, nat.id, true, w.now)));
  },
});

export const disableGatewayFlowMonitor = defineAction({
  service: 'vpc',
  name: 'DisableGatewayFlowMonitor',
  params: gatewayParams,
  async run(ctx, p) {
    checkGatewayId(p.GatewayId, 'GatewayId');
    return changeGateway(ctx, p.GatewayId, async (w, nat) => void (await setFlowMonitor(w.tx, nat.id, false, w.now)));
  },
});

export const checkGatewayFlowMonitor = defineAction({
  service: 'vpc',
  name: 'CheckGatewayFlowMonitor',
  params: gatewayParams,
  async run(ctx, p) {
    checkGatewayId(p.GatewayId, 'GatewayId');
    const nat = await readNat(ctx, p.GatewayId, 'GatewayId');
    // Bandwidth: the gateway's (InternetMaxBandwidthOut, Mbps).
    return { Enabled: (await monitoredGateways(ctx.db, [nat.id])).has(nat.id), Bandwidth: nat.bandwidth };
  },
});

/** OrderField values and the figure each sorts by. */
const ORDER_FIELDS: Record<string, FlowColumn> = {
  InPkg: 'in_packets',
  OutPkg: 'out_packets',
  InTraffic: 'in_bytes',
  OutTraffic: 'out_bytes',
  ConcurrentConnectionCount: 'connections',
  NewConnectionRate: 'new_connections',
};

/** TimePoint, `2019-02-28 18:15:20` (UTC, as Weft writes times): the ISO start of its minute. */
function minuteOf(timePoint: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(timePoint);
  const ms = m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : NaN;
  // Date.UTC rolls 2019-02-30 over to March: a time that does not read back as given is not one.
  if (Number.isNaN(ms) || tencentTime(new Date(ms).toISOString()) !== timePoint)
    fail('InvalidParameterValue.Malformed', `\`TimePoint\` is \`${timePoint}\`; give a time as \`2019-02-28 18:15:20\` (the figures of its minute are answered).`);
  return new Date(ms - (ms % 60_000)).toISOString();
}

export const describeGatewayFlowMonitorDetail = defineAction({
  service: 'vpc',
  name: 'DescribeGatewayFlowMonitorDetail',
  params: obj({
    TimePoint: str(),
    VpnId: opt(str()),
    DirectConnectGatewayId: opt(str()),
    PeeringConnectionId: opt(str()),
    NatId: opt(str()),
    ...paging,
    OrderField: opt(str()),
    OrderDirection: opt(str()),
    PrivateIpAddress: opt(str()),
  }),
  async run(ctx, p) {
    const minute = minuteOf(p.TimePoint);
    const given = (['VpnId', 'DirectConnectGatewayId', 'PeeringConnectionId', 'NatId'] as const).filter((k) => p[k] !== undefined);
    if (given.length > 1) fail('InvalidParameter', `Give one gateway, not ${given.map((k) => `\`${k}\``).join(' and ')}.`);
    if (!given.length) throw missingParameter('NatId');
    if (given[0] !== 'NatId')
      fail('UnsupportedOperation', `Weft keeps flow figures for NAT gateways only; give \`NatId\` rather than \`${given[0]}\`.`);
    const natId = checkGatewayId(p.NatId!, 'NatId', 'InvalidParameterValue.Malformed');
    const order = ORDER_FIELDS[p.OrderField ?? 'OutTraffic'];
    if (!order) fail('InvalidParameterValue.Malformed', `\`OrderField\` is \`${p.OrderField}\`; give one of ${Object.keys(ORDER_FIELDS).join(', ')}.`);
    const direction = p.OrderDirection ?? 'DESC';
    if (direction !== 'ASC' && direction !== 'DESC') fail('InvalidParameterValue.Malformed', `\`OrderDirection\` is \`${direction}\`; give ASC or DESC.`);
    if (p.PrivateIpAddress !== undefined && parseIp(p.PrivateIpAddress) === undefined)
      fail('InvalidParameterValue.Malformed', `\`PrivateIpAddress\` \`${p.PrivateIpAddress}\` is not an IPv4 address.`);
    const nat = await readNat(ctx, natId, 'NatId');
    const { offset, limit } = page(p);
    const { rows, total } = await flowDetail(ctx.db, {
      gatewayId: nat.id,
      minute,
      privateIp: p.PrivateIpAddress,
      order: order!,
      direction: direction === 'ASC' ? 'asc' : 'desc',
      offset,
      limit,
    });
    return {
      TotalCount: total,
      GatewayFlowMonitorDetailSet: rows.map((r) => ({
        PrivateIpAddress: r.private_ip,
        InPkg: r.in_packets,
        OutPkg: r.out_packets,
        InTraffic: r.in_bytes,
        OutTraffic: r.out_bytes,
        ConcurrentConnectionCount: r.connections,
        // New connections per second over the minute.
        NewConnectionRate: Math.round((r.new_connections / 60) * 100) / 100,
      })),
    };
  },
});

export const modifyGatewayFlowQos = defineAction({
  service: 'vpc',
  name: 'ModifyGatewayFlowQos',
  params: obj({ GatewayId: str(), Bandwidth: int(), IpAddresses: arr(str()), Direction: opt(str()) }),
  async run(ctx, p) {
    checkGatewayId(p.GatewayId, 'GatewayId');
    if (p.Bandwidth < -1)
      fail('InvalidParameterValue.Range', `\`Bandwidth\` is ${p.Bandwidth}; give a cap in Mbps, 0 to block the addresses, or -1 to lift their cap.`);
    if (p.Direction === 'In')
      fail('InvalidParameterValue', '`Direction` In caps inbound traffic, a feature of standard NAT gateways, which Weft does not have; omit it or give Out.');
    if (p.Direction !== undefined && p.Direction !== 'Out') fail('InvalidParameterValue', `\`Direction\` is \`${p.Direction}\`; give Out (or omit it).`);
    if (!p.IpAddresses.length) fail('InvalidParameterValue', '`IpAddresses` is empty; give the private addresses to cap.');
    checkPrivateIps(p.IpAddresses, undefined, 'IpAddresses');
    return changeGateway(ctx, p.GatewayId, async (w, nat) => {
      if (p.Bandwidth > nat.bandwidth)
        fail('InvalidParameterValue.Range', `\`Bandwidth\` is ${p.Bandwidth} Mbps, more than the gateway's own ${nat.bandwidth} Mbps (InternetMaxBandwidthOut).`);
      const vpc = await w.tx.selectFrom('vpcs').select('cidr').where('id', '=', nat.vpc_id).executeTakeFirstOrThrow();
      const ips = checkPrivateIps(p.IpAddresses, vpc.cidr, 'IpAddresses');
      if (p.Bandwidth === -1) await deleteQos(w.tx, nat.id, ips);
      else await setQos(w.tx, nat.id, ips, p.Bandwidth, w.now);
    });
  },
});

export const describeGatewayFlowQos = defineAction({
  service: 'vpc',
  name: 'DescribeGatewayFlowQos',
  params: obj({ GatewayId: str(), IpAddresses: opt(arr(str())), Offset: opt(intish({ min: 0 })), Limit: opt(intish({ min: 0, max: 100 })) }),
  async run(ctx, p) {
    checkGatewayId(p.GatewayId, 'GatewayId');
    const ips = p.IpAddresses && checkPrivateIps(p.IpAddresses, undefined, 'IpAddresses');
    const nat = await readNat(ctx, p.GatewayId, 'GatewayId');
    const { offset, limit } = page(p);
    const { rows, total } = await qosPage(ctx.db, nat.id, ips, offset, limit);
    return {
      GatewayQosSet: rows.map((r) => ({
        VpcId: nat.vpc_id,
        IpAddress: r.private_ip,
        Bandwidth: r.bandwidth,
        CreateTime: tencentTime(r.created_at),
        // Inbound caps are a standard NAT feature: never set.
        InBandwidth: -1,
      })),
      TotalCount: total,
    };
  },
});

export const gatewayFlowActions = [
  enableGatewayFlowMonitor,
  disableGatewayFlowMonitor,
  checkGatewayFlowMonitor,
  describeGatewayFlowMonitorDetail,
  modifyGatewayFlowQos,
  describeGatewayFlowQos,
];
