/**
 * The nftables rules of a VPC's router namespace, planned from its VpcContext.
 * Pure.
 *
 * The desired tables are built in the very shape `nft -j list table` prints
 * (statements as nft JSON objects), so comparing desired with actual is a
 * structural equality after dropping handles, and the same model is rendered
 * as `nft -f` text to load. Shape (docs/dataplane.md):
 *
 *   table inet weft
 *     set port_ifs      ifname                          interfaces of local ports
 *     set port_addrs    ifname . ether_addr . ipv4_addr what each port may send as
 *     set port_routed   ifname . ether_addr . ipv4_addr (interval) what a forwarding port may also send from
 *     set <acl>_ingress / <acl>_egress  ipv4_addr . inet_proto . inet_service (interval)
 *                                                     what a network ACL accepts (acl-set.ts)
 *     set m_<sg>        ipv4_addr                       members of a referenced group
 *     map egress_ports  ifname : verdict                port → jump egress-<ifname>
 *     map ingress_ports ifname : verdict                port → jump ingress-<ifname>
 *     map acl_out_ports / acl_in_ports ifname : verdict port → jump acl-out-/acl-in-<subnetId>
 *     chain prerouting  hook prerouting priority -150   anti-spoofing
 *     chain acl         hook forward priority -10       stateless ACLs at the subnet boundary
 *     chain acl-out-<subnet> / acl-in-<subnet>          within the subnet, or in the ACL's set, or drop
 *     chain egress      hook forward priority 0         ct state, then iifname vmap
 *     chain ingress     hook forward priority 10        ct state, then oifname vmap
 *     chain egress-<if> / ingress-<if>                  jump each bound group, then drop
 *     chain <sg>-egress / <sg>-ingress                  one rule per policy, in order
 *   table arp weft
 *     set port_ifs, set port_arp  ifname . ether_addr . ether_addr . ipv4_addr
 *     set port_arp_routed         the same, interval: port_routed's ranges
 *     chain input       hook input priority 0           ARP anti-spoofing
 */
import type { NetworkAcl, Port, Rule, VpcContext } from '../../contract/host-document.js';
import { formatIp, lastOf, maskOf, parseCidr, parseIp } from '../../core/cidr.js';
import { stableJson } from '../../core/stable-json.js';
import { aclBoxes, exactPrefix, type AclBox, type Interval } from './acl-set.js';
import { LB_MARK } from './route-tables.js';
import { digestOf } from './nat-gateway.js';

/** One nft statement as `nft -j` lists it, e.g. `{ accept: null }`. */
export type Stmt = Record<string, unknown>;

export interface NftSet {
  name: string;
  /** Element type, or the types of a concatenation. */
  type: string | string[];
  /** Data type of a map ('verdict'); absent for a plain set. */
  map?: string;
  flags?: string[];
  elem: unknown[];
}

export interface BaseChain {
  type: string;
  hook: string;
  prio: number;
  policy: string;
}

export interface NftChain {
  name: string;
  base?: BaseChain;
  rules: Stmt[][];
}

export interface NftTable {
  family: string;
  name: string;
  sets: NftSet[];
  chains: NftChain[];
  /**
   * Wanted: `weft <digest of its shape>` (sets without elements, chains with
   * their rules); listed: the table's comment (`nft -j` omits it: read from
   * the text listing, tableComments). What a comparison trusts instead of rule bodies.
   */
  comment?: string;
}

export const TABLE = 'weft';

// ---- statement builders (nft JSON) ----
const payload = (protocol: string, field: string) => ({ payload: { protocol, field } });
const meta = (key: string) => ({ meta: { key } });
const ct = (key: string) => ({ ct: { key } });
const match = (left: unknown, right: unknown, op = '=='): Stmt => ({ match: { op, left, right } });
const ACCEPT: Stmt = { accept: null };
const DROP: Stmt = { drop: null };
const RETURN: Stmt = { return: null };
const jump = (target: string): Stmt => ({ jump: { target } });

/**
 * The NFLOG group security-group and ACL drops are logged to while a flow log
 * of the VPC wants rejected traffic (REJECT or ALL): ulogd2 reads it in the
 * router namespace (agent/flow-logs.ts). Groups are per network namespace.
 */
export const FLOW_LOG_GROUP = 7;
/**
 * How the security-group and ACL verdicts drop: logged first when a flow log
 * wants rejected packets, with prefix `out` (the sending port's egress, or
 * leaving its subnet) or `in` (the receiving port's ingress, or entering its
 * subnet), so a drop is charged to the right port's interface.
 */
const dropOf = (vpc: VpcContext) => {
  const logged = vpc.flowLogs?.some((f) => f.trafficType !== 'ACCEPT');
  return (side: 'in' | 'out'): Stmt[] => (logged ? [{ log: { prefix: side, group: FLOW_LOG_GROUP } }, DROP] : [DROP]);
};

export const memberSet = (sg: string) => `m_${sg}`;
export const portChain = (dir: Direction, ifname: string) => `${dir}-${ifname}`;
export const groupChain = (sg: string, dir: Direction) => `${sg}-${dir}`;
export const aclChain = (dir: AclDirection, subnetId: string) => `acl-${dir}-${subnetId}`;
export const aclSet = (aclId: string, dir: Direction) => `${aclId}_${dir}`;
type Direction = 'ingress' | 'egress';
/** Out of the subnet (the ACL's egress entries) or into it (ingress). */
type AclDirection = 'out' | 'in';

/** The two tables a VPC's router namespace should hold. Throws on a policy it cannot express. */
export function desiredTables(vpc: VpcContext): NftTable[] {
  return [inetTable(vpc), arpTable(vpc.ports), ...(vpc.eips ? [eipTable(vpc)] : [])].map((t) => ({ ...t, comment: `weft ${digestOf(shapeOf(t))}` }));
}

/** The link between a gateway's VPC router and the gateway's own namespace (plan.ts). */
export const PUBLIC_LINK = 'pub0';
/** On a gateway: the VPC router's interface for traffic sent to the owner node, a macvlan on the tunnel with the VPC's owner MAC (plan.ts). */
export const NAT_LINK = 'nat0';

/**
 * On a gateway: the VPC's elastic IPs as stateless 1:1 translation, before
 * conntrack (`notrack`: any gateway can carry any packet of a flow). From the
 * tunnel, an EIP instance's source becomes its EIP; from the gateway's side,
 * an EIP destination becomes the instance's address; anything else is dropped
 * (a source or destination outside the map fails the lookup, so the rule does
 * not match). nft fixes the L4 checksums.
 */
function eipTable(vpc: VpcContext): NftTable {
  const eips = [...(vpc.eips ?? [])].sort((a, b) => cmpIp(a.publicIp, b.publicIp));
  const mangle = (field: 'saddr' | 'daddr', map: string): Stmt => ({ mangle: { key: payload('ip', field), value: { map: { key: payload('ip', field), data: `@${map}` } } } });
  return {
    family: 'ip',
    name: TABLE,
    sets: [
      { name: 'eip_out', type: 'ipv4_addr', map: 'ipv4_addr', elem: [...eips].sort((a, b) => cmpIp(a.privateIp, b.privateIp)).map((e) => [e.privateIp, e.publicIp]) },
      { name: 'eip_in', type: 'ipv4_addr', map: 'ipv4_addr', elem: eips.map((e) => [e.publicIp, e.privateIp]) },
      // Pinned EIPs (small limits) arrive on the owner path; anything else there is NAT traffic, even from an EIP instance whose route table sends it to a NAT gateway.
      {
        name: 'eip_pinned_out',
        type: 'ipv4_addr',
        map: 'ipv4_addr',
        elem: eips
          .filter((e) => e.pinned)
          .sort((a, b) => cmpIp(a.privateIp, b.privateIp))
          .map((e) => [e.privateIp, e.publicIp]),
      },
    ],
    chains: [
      {
        name: 'eip',
        base: { type: 'filter', hook: 'prerouting', prio: -300, policy: 'accept' },
        rules: [
          [match(meta('iifname'), `vx${vpc.vni}`), { notrack: null }, mangle('saddr', 'eip_out'), ACCEPT],
          [match(meta('iifname'), PUBLIC_LINK), { notrack: null }, mangle('daddr', 'eip_in'), ACCEPT],
          // Traffic for the owner node: a pinned EIP's is translated as on the tunnel; NAT traffic passes
          // untranslated (the gateway's namespace translates it, statefully: nat-gateway.ts).
          [match(meta('iifname'), NAT_LINK), { notrack: null }, mangle('saddr', 'eip_pinned_out'), ACCEPT],
          ...(vpc.nat
            ? [
                [match(meta('iifname'), NAT_LINK), { notrack: null }, ACCEPT],
                ...(vpc.cidr ? [[match(meta('iifname'), PUBLIC_LINK), match(payload('ip', 'daddr'), cidrValue(vpc.cidr, vpc.vpcId)), { notrack: null }, ACCEPT]] : []),
              ]
            : []),
          [DROP],
        ],
      },
    ],
  };
}

function inetTable(vpc: VpcContext): NftTable {
  const drop = dropOf(vpc);
  const ports = [...vpc.ports].sort((a, b) => cmp(a.ifname, b.ifname));
  const bound = [...new Set(ports.flatMap((p) => p.securityGroups))].sort(cmp);
  const referenced = new Set<string>();
  for (const sg of bound) {
    const rules = vpc.securityGroups[sg];
    for (const r of [...(rules?.ingress ?? []), ...(rules?.egress ?? [])]) if (r.group) referenced.add(r.group);
  }

  // Network ACLs of the subnets with local ports (every subnet here has one).
  const aclOf = new Map<string, string>();
  for (const sub of vpc.subnets) {
    if (!sub.networkAclId) continue;
    if (!vpc.networkAcls?.[sub.networkAclId]) throw new Error(`${sub.subnetId}: network ACL ${sub.networkAclId} is not in the document`);
    aclOf.set(sub.subnetId, sub.networkAclId);
  }
  const aclSubnets = [...vpc.subnets].filter((s) => aclOf.has(s.subnetId)).sort((a, b) => cmp(a.subnetId, b.subnetId));
  const acls = [...new Set(aclOf.values())].sort(cmp).map((id) => [id, vpc.networkAcls![id]!] as const);

  const sets: NftSet[] = [
    { name: 'port_ifs', type: 'ifname', elem: ports.map((p) => p.ifname) },
    { name: 'port_addrs', type: ['ifname', 'ether_addr', 'ipv4_addr'], elem: ports.map((p) => ({ concat: [p.ifname, mac(p.mac), p.ip] })) },
    {
      name: 'port_routed',
      type: ['ifname', 'ether_addr', 'ipv4_addr'],
      flags: ['interval'],
      elem: ports.flatMap((p) => (p.routedCidrs ?? []).map((c) => ({ concat: [p.ifname, mac(p.mac), cidrValue(c, `${p.instanceId} routed CIDR`)] }))),
    },
    ...acls.flatMap(([aclId, acl]) =>
      (['egress', 'ingress'] as const).map(
        (dir): NftSet => ({
          name: aclSet(aclId, dir),
          type: ['ipv4_addr', 'inet_proto', 'inet_service'],
          flags: ['interval'],
          elem: aclElems(acl, dir, aclId),
        }),
      ),
    ),
    ...[...referenced].sort(cmp).map((sg) => ({
      name: memberSet(sg),
      type: 'ipv4_addr',
      elem: [...new Set(vpc.groupMembers[sg] ?? [])].filter((ip) => parseIp(ip) !== undefined).sort(cmpIp),
    })),
    ...(['egress', 'ingress'] as const).map((dir) => ({
      name: `${dir}_ports`,
      type: 'ifname',
      map: 'verdict',
      elem: ports.map((p) => [p.ifname, jump(portChain(dir, p.ifname))]),
    })),
    ...(['out', 'in'] as const).map((dir) => ({
      name: `acl_${dir}_ports`,
      type: 'ifname',
      map: 'verdict',
      elem: ports.filter((p) => aclOf.has(p.subnetId)).map((p) => [p.ifname, jump(aclChain(dir, p.subnetId))]),
    })),
  ];

  // Load-balanced flows: the LB node they came through, and their replies marked for the way back (route-tables.ts LB_MARK).
  const lbNodes = vpc.ports.length ? [...(vpc.lbNodes ?? [])].sort((a, b) => a.node - b.node) : [];
  if (lbNodes.length) sets.push({ name: 'lb_nodes', type: 'ether_addr', map: 'mark', elem: lbNodes.map((n) => [mac(n.mac), LB_MARK + n.node]) });
  const chains: NftChain[] = [
    ...(lbNodes.length ? [lbChain(vpc)] : []),
    {
      name: 'prerouting',
      base: { type: 'filter', hook: 'prerouting', prio: -150, policy: 'accept' },
      rules: [
        // Only ports are checked; the tunnel and the router's own traffic pass.
        [match(meta('iifname'), '@port_ifs', '!='), ACCEPT],
        [match({ concat: [meta('iifname'), payload('ether', 'saddr'), payload('ip', 'saddr')] }, '@port_addrs'), ACCEPT],
        // A NORMAL_CVM next hop forwards: it may also send from what is routed to it.
        [match({ concat: [meta('iifname'), payload('ether', 'saddr'), payload('ip', 'saddr')] }, '@port_routed'), ACCEPT],
        [DROP],
      ],
    },
    {
      // Stateless, before conntrack decides anything: a reply needs its own entry.
      name: 'acl',
      base: { type: 'filter', hook: 'forward', prio: -10, policy: 'accept' },
      rules: [[{ vmap: { key: meta('iifname'), data: '@acl_out_ports' } }], [{ vmap: { key: meta('oifname'), data: '@acl_in_ports' } }]],
    },
    ...(['egress', 'ingress'] as const).map((dir) => ({
      name: dir,
      base: { type: 'filter', hook: 'forward', prio: dir === 'egress' ? 0 : 10, policy: 'accept' },
      rules: [
        [match(ct('state'), ['established', 'related'], 'in'), ACCEPT],
        // Only at a port: a router that sees one half of a flow (peered traffic
        // takes another router back) finds its reply's SYN-ACK "invalid".
        [match(meta(dir === 'egress' ? 'iifname' : 'oifname'), '@port_ifs'), match(ct('state'), 'invalid', 'in'), DROP],
        [{ vmap: { key: meta(dir === 'egress' ? 'iifname' : 'oifname'), data: `@${dir}_ports` } }],
      ],
    })),
    ...aclSubnets.flatMap((s) =>
      (['out', 'in'] as const).map((dir) => {
        const field = dir === 'out' ? 'daddr' : 'saddr';
        return {
          name: aclChain(dir, s.subnetId),
          rules: [
            // Within the subnet the ACL does not apply.
            [match(payload('ip', field), cidrValue(s.cidr, `${s.subnetId} CIDR`)), RETURN],
            [match({ concat: [payload('ip', field), meta('l4proto'), payload('th', 'dport')] }, `@${aclSet(aclOf.get(s.subnetId)!, dir === 'out' ? 'egress' : 'ingress')}`), RETURN],
            drop(dir),
          ],
        };
      }),
    ),
    ...ports.flatMap((p) =>
      (['egress', 'ingress'] as const).map((dir) => ({
        name: portChain(dir, p.ifname),
        rules: [...p.securityGroups.map((sg) => [jump(groupChain(sg, dir))]), drop(dir === 'egress' ? 'out' : 'in')],
      })),
    ),
    ...bound.flatMap((sg) =>
      (['egress', 'ingress'] as const).map((dir) => ({
        name: groupChain(sg, dir),
        rules: (vpc.securityGroups[sg]?.[dir] ?? []).map((r, i) => policyRule(r, dir, `${sg} ${dir} policy ${i}`, drop(dir === 'egress' ? 'out' : 'in'))),
      })),
    ),
  ];
  return { family: 'inet', name: TABLE, sets, chains };
}

/**
 * On a host of a VPC with load balancers: a packet an LB node sends into the
 * tunnel in a flow's original direction (a client's, to a backend here; or a
 * health check) marks the flow with that node's number, so the last node
 * that carried it gets its replies, which leave from the backend's port with
 * the flow's mark as packet mark (a rule per node routes them). After
 * conntrack (-200), before routing.
 */
function lbChain(vpc: VpcContext): NftChain {
  return {
    name: 'lb',
    base: { type: 'filter', hook: 'prerouting', prio: -140, policy: 'accept' },
    rules: [
      [match(meta('iifname'), `vx${vpc.vni}`), match(ct('direction'), 'original'), { mangle: { key: ct('mark'), value: { map: { key: payload('ether', 'saddr'), data: '@lb_nodes' } } } }],
      [match(meta('iifname'), '@port_ifs'), match(ct('direction'), 'reply'), { mangle: { key: meta('mark'), value: ct('mark') } }],
    ],
  };
}

/** A CIDR as nft lists it: a plain address for a /32, otherwise a prefix (masked). */
function cidrValue(cidr: string, where: string): unknown {
  const c = parseCidr(cidr, false);
  if (!c) throw new Error(`${where}: invalid CIDR ${JSON.stringify(cidr)}`);
  return addrValue([c.base, lastOf(c)]);
}

/** An address range as nft lists it: an address, a prefix where it is exactly one, otherwise a range. */
function addrValue(r: Interval): unknown {
  if (r[0] === r[1]) return formatIp(r[0]);
  const p = exactPrefix(r);
  return p ? { prefix: { addr: formatIp(p.base), len: p.len } } : { range: [formatIp(r[0]), formatIp(r[1])] };
}

const numValue = ([lo, hi]: Interval): unknown => (lo === hi ? lo : { range: [lo, hi] });

/** The elements of one direction of an ACL: exactly the packets its ordered entries accept, none overlapping. */
function aclElems(acl: NetworkAcl, dir: Direction, aclId: string): unknown[] {
  let boxes: AclBox[];
  try {
    boxes = aclBoxes(acl[dir]);
  } catch (e) {
    throw new Error(`${aclId} ${dir}: ${(e as Error).message}`);
  }
  return boxes.map((b) => ({ concat: [addrValue(b.addr), numValue(b.proto), numValue(b.port)] }));
}

function arpTable(ports: Port[]): NftTable {
  const sorted = [...ports].sort((a, b) => cmp(a.ifname, b.ifname));
  return {
    family: 'arp',
    name: TABLE,
    sets: [
      { name: 'port_ifs', type: 'ifname', elem: sorted.map((p) => p.ifname) },
      {
        name: 'port_arp',
        type: ['ifname', 'ether_addr', 'ether_addr', 'ipv4_addr'],
        elem: sorted.map((p) => ({ concat: [p.ifname, mac(p.mac), mac(p.mac), p.ip] })),
      },
      {
        // A forwarding instance answering from a routed address asks for its gateway's MAC from that address
        // (the kernel's default arp_announce): the same ranges as port_routed.
        name: 'port_arp_routed',
        type: ['ifname', 'ether_addr', 'ether_addr', 'ipv4_addr'],
        flags: ['interval'],
        elem: sorted.flatMap((p) => (p.routedCidrs ?? []).map((c) => ({ concat: [p.ifname, mac(p.mac), mac(p.mac), cidrValue(c, `${p.instanceId} routed CIDR`)] }))),
      },
    ],
    chains: [
      {
        name: 'input',
        base: { type: 'filter', hook: 'input', prio: 0, policy: 'accept' },
        rules: [
          [match(meta('iifname'), '@port_ifs', '!='), ACCEPT],
          [
            match(
              { concat: [meta('iifname'), payload('ether', 'saddr'), payload('arp', 'saddr ether'), payload('arp', 'saddr ip')] },
              '@port_arp',
            ),
            ACCEPT,
          ],
          [
            match(
              { concat: [meta('iifname'), payload('ether', 'saddr'), payload('arp', 'saddr ether'), payload('arp', 'saddr ip')] },
              '@port_arp_routed',
            ),
            ACCEPT,
          ],
          [DROP],
        ],
      },
    ],
  };
}

/** One security-group policy as one rule. The peer is the source on ingress, the destination on egress. */
export function policyRule(rule: Rule, dir: Direction, where = 'policy', drop: Stmt[] = [DROP]): Stmt[] {
  const field = dir === 'ingress' ? 'saddr' : 'daddr';
  const stmts: Stmt[] = [];
  if (rule.group) stmts.push(match(payload('ip', field), `@${memberSet(rule.group)}`));
  else if (rule.cidr !== undefined) {
    // The compiler hands over normalised CIDRs (a bare address is already a /32): anything else is refused, as the tracer refuses it.
    const c = parseCidr(rule.cidr);
    if (!c) throw new Error(`${where}: invalid CIDR ${JSON.stringify(rule.cidr)} (expected a normalised a.b.c.d/n)`);
    if (c.prefix === 0) stmts.push(match(meta('nfproto'), 'ipv4'));
    else if (c.prefix === 32) stmts.push(match(payload('ip', field), formatIp(c.base)));
    else stmts.push(match(payload('ip', field), { prefix: { addr: formatIp((c.base & maskOf(c.prefix)) >>> 0), len: c.prefix } }));
  } else if (rule.ipv6Cidr !== undefined) {
    const c = parseIpv6Cidr(rule.ipv6Cidr.includes('/') ? rule.ipv6Cidr : `${rule.ipv6Cidr}/128`);
    if (!c) throw new Error(`${where}: invalid IPv6 CIDR ${JSON.stringify(rule.ipv6Cidr)}`);
    if (c.prefix === 0) stmts.push(match(meta('nfproto'), 'ipv6'));
    else if (c.prefix === 128) stmts.push(match(payload('ip6', field), c.addr));
    else stmts.push(match(payload('ip6', field), { prefix: { addr: c.addr, len: c.prefix } }));
  }
  // GRE is a Tencent policy protocol the contract does not list yet; it costs nothing to honour.
  switch (rule.protocol as Rule['protocol'] | 'gre') {
    case 'tcp':
    case 'udp': {
      const ports = normalisePorts(rule.ports);
      if (ports.length === 0) stmts.push(match(meta('l4proto'), rule.protocol));
      else stmts.push(match(payload(rule.protocol, 'dport'), portValue(ports)));
      break;
    }
    case 'icmp':
    case 'icmpv6': {
      // nft lists `meta nfproto ipv4 meta l4proto icmp` as `meta l4proto icmp`
      // (the family is implied); say it the way it will be listed.
      const [family, proto] = rule.protocol === 'icmp' ? ['ipv4', 'icmp'] : ['ipv6', 'ipv6-icmp'];
      const last = stmts[stmts.length - 1]?.match as { left: { meta?: { key: string } }; right: unknown } | undefined;
      if (last?.left.meta?.key === 'nfproto' && last.right === family) stmts.pop();
      stmts.push(match(meta('l4proto'), proto));
      break;
    }
    case 'gre':
      stmts.push(match(meta('l4proto'), 'gre'));
      break;
    case 'all':
      break;
    default:
      throw new Error(`${where}: unknown protocol ${JSON.stringify(rule.protocol)}`);
  }
  if (rule.action !== 'accept' && rule.action !== 'drop') throw new Error(`${where}: unknown action ${JSON.stringify(rule.action)}`);
  stmts.push(...(rule.action === 'accept' ? [ACCEPT] : drop));
  return stmts;
}

/**
 * Sorted, merged port ranges (overlapping or adjacent ranges become one, as
 * nft would refuse or merge them); empty when they cover every port.
 */
export function normalisePorts(ranges: [number, number][]): [number, number][] {
  const sorted = ranges
    .map(([a, b]) => [Math.max(0, Math.min(a, b)), Math.min(65535, Math.max(a, b))] as [number, number])
    .sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  if (out.length === 1 && out[0]![0] === 0 && out[0]![1] === 65535) return [];
  return out;
}

function portValue(ports: [number, number][]): unknown {
  const one = ([a, b]: [number, number]) => (a === b ? a : { range: [a, b] });
  return ports.length === 1 ? one(ports[0]!) : { set: ports.map(one) };
}

// ---- IPv6 (only as much as the listing's canonical form needs) ----

/** Parses an IPv6 CIDR; the address comes back masked and in inet_ntop's form. */
export function parseIpv6Cidr(s: string): { addr: string; prefix: number } | undefined {
  const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const prefix = Number(m[2]);
  const groups = parseIpv6(m[1]!);
  if (!groups || prefix > 128) return undefined;
  for (let i = 0; i < 8; i++) {
    const keep = Math.max(0, Math.min(16, prefix - i * 16));
    groups[i] = groups[i]! & (keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff);
  }
  return { addr: formatIpv6(groups), prefix };
}

function parseIpv6(s: string): number[] | undefined {
  let text = s;
  const tail: number[] = [];
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = parseIp(v4[2]!);
    if (n === undefined) return undefined;
    tail.push(n >>> 16, n & 0xffff);
    text = v4[1]!.endsWith('::') ? v4[1]! : v4[1]!.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const part = (h: string) => (h === '' ? [] : h.split(':'));
  const head = part(halves[0]!);
  const rest = halves.length === 2 ? part(halves[1]!) : [];
  if ([...head, ...rest].some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const known = head.length + rest.length + tail.length;
  if (halves.length === 1 ? known !== 8 : known > 7) return undefined;
  const zeros = Array(8 - known).fill(0) as number[];
  return [...head.map((g) => parseInt(g, 16)), ...zeros, ...rest.map((g) => parseInt(g, 16)), ...tail];
}

/** RFC 5952 text: lowercase, the first longest run (≥ 2) of zero groups as '::'. */
function formatIpv6(g: number[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

// ---- listing → model ----

/**
 * The comments of the tables in an `nft list …` text answer (`-t` is enough),
 * by `family name`: nft 1.0's JSON listing does not carry them.
 */
export function tableComments(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let table: string | undefined;
  for (const line of text.split('\n')) {
    const t = /^table (\S+) (\S+) \{/.exec(line);
    if (t) table = `${t[1]} ${t[2]}`;
    const c = /^\tcomment "([^"]*)"/.exec(line); // one tab: the table's own, not a chain's or a set's
    if (table && c) out.set(table, c[1]!);
  }
  return out;
}

/** Tables listed as JSON, with their comments from the text listing (tableComments). */
export const withComments = (tables: NftTable[], comments: ReadonlyMap<string, string>): NftTable[] =>
  tables.map((t) => {
    const comment = comments.get(`${t.family} ${t.name}`);
    return comment === undefined ? t : { ...t, comment };
  });

/** The tables of an `nft -j list …` answer, handles dropped. */
export function tablesFromListing(list: unknown[]): NftTable[] {
  const tables = new Map<string, NftTable>();
  const key = (family: unknown, name: unknown) => `${String(family)} ${String(name)}`;
  const tableOf = (o: Record<string, unknown>) => tables.get(key(o.family, o.table));
  for (const entry of list as Record<string, Record<string, unknown>>[]) {
    if (entry.table) {
      const t = entry.table;
      tables.set(key(t.family, t.name), { family: String(t.family), name: String(t.name), sets: [], chains: [] });
    } else if (entry.set || entry.map) {
      const s = (entry.set ?? entry.map)!;
      const set: NftSet = { name: String(s.name), type: s.type as string | string[], elem: (s.elem as unknown[] | undefined) ?? [] };
      if (s.map !== undefined) set.map = String(s.map);
      if (Array.isArray(s.flags) && s.flags.length) set.flags = s.flags as string[];
      tableOf(s)?.sets.push(set);
    } else if (entry.chain) {
      const c = entry.chain;
      const chain: NftChain = { name: String(c.name), rules: [] };
      if (c.hook !== undefined) chain.base = { type: String(c.type), hook: String(c.hook), prio: Number(c.prio), policy: String(c.policy) };
      tableOf(c)?.chains.push(chain);
    } else if (entry.rule) {
      const r = entry.rule;
      tableOf(r)
        ?.chains.find((c) => c.name === r.chain)
        ?.rules.push(r.expr as Stmt[]);
    }
  }
  return [...tables.values()];
}

// ---- comparison ----

const sortedElems = (s: NftSet) => s.elem.map((e) => elemKey(e, s)).sort();

/**
 * An element in one canonical form, so the desired and the listed compare
 * equal: nft lists a one-value range as the value, a range that is a prefix as
 * the prefix, and a lone protocol number by its name in /etc/protocols.
 */
function elemKey(e: unknown, s: NftSet): string {
  if (s.map) return stableJson(e);
  const types = Array.isArray(s.type) ? s.type : [s.type];
  const parts = e && typeof e === 'object' && 'concat' in e ? (e.concat as unknown[]) : [e];
  return stableJson(parts.map((v, i) => canonical(v, types[i])));
}

function canonical(v: unknown, type: string | undefined): unknown {
  const num = (x: unknown): number | undefined => {
    if (typeof x === 'number') return x;
    if (typeof x !== 'string') return undefined;
    if (type === 'ipv4_addr') return parseIp(x);
    if (type === 'inet_proto') return PROTOCOL_NAMES[x] ?? (/^\d+$/.test(x) ? Number(x) : undefined);
    return /^\d+$/.test(x) ? Number(x) : undefined;
  };
  if (type !== 'ipv4_addr' && type !== 'inet_proto' && type !== 'inet_service') return v;
  const o = v as { prefix?: { addr: string; len: number }; range?: [unknown, unknown] } | null;
  if (o && typeof o === 'object' && o.prefix) {
    const c = parseCidr(`${o.prefix.addr}/${o.prefix.len}`, false);
    return c ? [c.base, lastOf(c)] : v;
  }
  if (o && typeof o === 'object' && o.range) {
    const [a, b] = [num(o.range[0]), num(o.range[1])];
    return a !== undefined && b !== undefined ? [a, b] : v;
  }
  const n = num(v);
  return n === undefined ? v : [n, n];
}

/** Names nft prints for the protocol numbers an ACL set can hold alone (netbase's /etc/protocols). */
const PROTOCOL_NAMES: Record<string, number> = { ip: 0, hopopt: 0, icmp: 1, igmp: 2, ggp: 3, ipencap: 4, st: 5, tcp: 6, egp: 8, igp: 9, pup: 12, udp: 17, gre: 47 };

/** The table without set contents (nor its comment): what its digest is of. */
function shapeOf(t: NftTable): string {
  return stableJson({
    sets: [...t.sets].sort((a, b) => cmp(a.name, b.name)).map((s) => ({ ...s, elem: [] })),
    chains: [...t.chains].sort((a, b) => cmp(a.name, b.name)),
  });
}

/**
 * What must match for a set-only update to be enough, compared without the
 * rule bodies (as knftables does; nft versions print rules differently): the
 * table's comment (the digest of the shape it was made with), its sets'
 * declarations, and per chain its hook and how many rules it holds, so a
 * table, chain or rule deleted or added by hand is seen. A rule edited in
 * place, its count unchanged, is not (docs/reconcile.md).
 */
function summaryOf(t: NftTable): string {
  return stableJson({
    comment: t.comment ?? '',
    sets: [...t.sets].sort((a, b) => cmp(a.name, b.name)).map((s) => ({ ...s, elem: [] })),
    chains: [...t.chains].sort((a, b) => cmp(a.name, b.name)).map((c) => ({ name: c.name, base: c.base, rules: c.rules.length })),
  });
}

export interface NftChange {
  /** `nft -f` input: one transaction. */
  text: string;
  /** Tables replaced whole ("inet weft"). */
  replaced: string[];
  /** Sets/maps whose elements were rewritten ("inet weft m_sg-1"). */
  sets: string[];
}

/**
 * What turns the actual tables into the desired ones: nothing; new elements
 * for sets whose contents alone differ; or whole tables replaced (deleted and
 * recreated in the same transaction, so a failure changes nothing).
 */
export function planNft(desired: NftTable[], actual: NftTable[]): NftChange | undefined {
  const replace: NftTable[] = [];
  const sets: { table: NftTable; set: NftSet }[] = [];
  for (const want of desired) {
    const have = actual.find((t) => t.family === want.family && t.name === want.name);
    if (!have || summaryOf(have) !== summaryOf(want)) {
      replace.push(want);
      continue;
    }
    for (const s of want.sets) {
      const h = have.sets.find((x) => x.name === s.name)!;
      if (stableJson(sortedElems(h)) !== stableJson(sortedElems(s))) sets.push({ table: want, set: s });
    }
  }
  if (!replace.length && !sets.length) return undefined;
  const text: string[] = [];
  for (const t of replace) text.push(`table ${t.family} ${t.name} {}`, `delete table ${t.family} ${t.name}`, renderTable(t));
  for (const { table, set } of sets) {
    const ref = `${table.family} ${table.name} ${set.name}`;
    text.push(`flush ${set.map ? 'map' : 'set'} ${ref}`);
    if (set.elem.length) text.push(`add element ${ref} { ${set.elem.map((e) => elemText(e, set)).join(', ')} }`);
  }
  return {
    text: text.join('\n') + '\n',
    replaced: replace.map((t) => `${t.family} ${t.name}`),
    sets: sets.map(({ table, set }) => `${table.family} ${table.name} ${set.name}`),
  };
}

// ---- model → nft -f text ----

export function renderTable(t: NftTable): string {
  const out = [`table ${t.family} ${t.name} {`];
  if (t.comment) out.push(`\tcomment "${t.comment}"`);
  for (const s of t.sets) {
    const types = Array.isArray(s.type) ? s.type.join(' . ') : s.type;
    out.push(`\t${s.map ? 'map' : 'set'} ${s.name} {`, `\t\ttype ${types}${s.map ? ` : ${s.map}` : ''}`);
    if (s.flags?.length) out.push(`\t\tflags ${s.flags.join(',')}`);
    if (s.elem.length) out.push(`\t\telements = { ${s.elem.map((e) => elemText(e, s)).join(', ')} }`);
    out.push('\t}');
  }
  for (const c of t.chains) {
    out.push(`\tchain ${c.name} {`);
    if (c.base) out.push(`\t\ttype ${c.base.type} hook ${c.base.hook} priority ${c.base.prio}; policy ${c.base.policy};`);
    for (const r of c.rules) out.push(`\t\t${ruleText(r)}`);
    out.push('\t}');
  }
  out.push('}');
  return out.join('\n');
}

function elemText(e: unknown, s: NftSet): string {
  const types = Array.isArray(s.type) ? s.type : [s.type];
  const value = (v: unknown, type: string | undefined) => (type === 'ifname' ? JSON.stringify(v) : v && typeof v === 'object' ? rhsText(v, false) : String(v));
  if (s.map) {
    const [k, d] = e as [unknown, Stmt];
    return `${value(k, types[0])} : ${s.map === 'verdict' ? stmtText(d) : value(d, s.map)}`;
  }
  if (e && typeof e === 'object' && 'concat' in e) return (e.concat as unknown[]).map((v, i) => value(v, types[i])).join(' . ');
  return value(e, types[0]);
}

export const ruleText = (r: Stmt[]) => r.map(stmtText).join(' ');

function lhsText(e: unknown): string {
  const o = e as Record<string, Record<string, unknown>>;
  if (o.payload) return `${String(o.payload.protocol)} ${String(o.payload.field)}`;
  if (o.meta) return ['iifname', 'oifname'].includes(String(o.meta.key)) ? String(o.meta.key) : `meta ${String(o.meta.key)}`;
  if (o.ct) return `ct ${String(o.ct.key)}`;
  if ((e as { concat?: unknown[] }).concat) return (e as { concat: unknown[] }).concat.map(lhsText).join(' . ');
  throw new Error(`cannot render nft expression ${JSON.stringify(e)}`);
}

function rhsText(v: unknown, quote: boolean): string {
  if (typeof v === 'string') return v.startsWith('@') || !quote ? v : JSON.stringify(v);
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return v.map((x) => rhsText(x, quote)).join(',');
  const o = v as Record<string, unknown>;
  if (o.prefix) {
    const p = o.prefix as { addr: string; len: number };
    return `${p.addr}/${p.len}`;
  }
  if (o.range) {
    const [a, b] = o.range as [unknown, unknown];
    return `${rhsText(a, quote)}-${rhsText(b, quote)}`;
  }
  if (o.set) return `{ ${(o.set as unknown[]).map((x) => rhsText(x, quote)).join(', ')} }`;
  throw new Error(`cannot render nft value ${JSON.stringify(v)}`);
}

function stmtText(s: Stmt): string {
  if (s.match) {
    const m = s.match as { op: string; left: unknown; right: unknown };
    const meta = (m.left as { meta?: { key: string } }).meta;
    const quote = !!meta && ['iifname', 'oifname'].includes(meta.key);
    const op = m.op === '==' || m.op === 'in' ? '' : `${m.op} `;
    return `${lhsText(m.left)} ${op}${rhsText(m.right, quote)}`;
  }
  if (s.vmap) {
    const v = s.vmap as { key: unknown; data: string };
    return `${lhsText(v.key)} vmap ${v.data}`;
  }
  if (s.mangle) {
    const m = s.mangle as { key: unknown; value: { map?: { key: unknown; data: string } } };
    if (!m.value.map) return `${lhsText(m.key)} set ${lhsText(m.value)}`;
    return `${lhsText(m.key)} set ${lhsText(m.value.map.key)} map ${m.value.map.data}`;
  }
  if ('notrack' in s) return 'notrack';
  if (s.log) {
    const l = s.log as { prefix?: string; group: number };
    return `log${l.prefix ? ` prefix ${JSON.stringify(l.prefix)}` : ''} group ${l.group}`;
  }
  if (s.jump) return `jump ${(s.jump as { target: string }).target}`;
  if (s.goto) return `goto ${(s.goto as { target: string }).target}`;
  for (const verdict of ['accept', 'drop', 'return', 'continue']) if (verdict in s) return verdict;
  throw new Error(`cannot render nft statement ${JSON.stringify(s)}`);
}

// ---- helpers ----
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const cmpIp = (a: string, b: string) => parseIp(a)! - parseIp(b)!;
/** MACs as nft prints them: lowercase, two digits per octet. */
export const mac = (m: string) =>
  m
    .toLowerCase()
    .split(':')
    .map((o) => o.padStart(2, '0'))
    .join(':');
