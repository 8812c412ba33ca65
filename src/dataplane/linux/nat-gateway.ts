/**
 * NAT gateways on a gateway node: what its own namespace (`<prefix>-gwN`,
 * where the internet is) holds for every VPC with NAT gateways, and the plan
 * that makes it so. Pure; driver.ts reads the state and runs the plan
 * (docs/public-network.md, "NAT gateways (data path)").
 *
 * NAT traffic reaches the gateway namespace from a VPC's router over the
 * router's link (`x<vni>`) with its private source, and comes back from the
 * internet on `i0` to one of the NAT gateways' EIPs. Both directions of a
 * VPC's sessions are kept in conntrack zone `nat.zone` (VPCs' private
 * addresses overlap; zones keep their sessions apart), and the packet mark
 * names the zone so that replies, once translated back to a private address,
 * are routed into that VPC's router (one table per zone). Everything else in
 * the namespace (EIP traffic, translated statelessly in the VPC routers; the
 * tunnel; BGP; conntrackd) is `notrack`: conntrack holds NAT sessions only,
 * and conntrackd copies exactly those to the other gateway nodes.
 *
 *   table ip weftnat  (comment "weft <digest>": replaced whole when the digest differs)
 *     map zone_of_if / mark_of_if    x<vni> → the VPC's zone
 *     map zone_of_eip / mark_of_eip  NAT EIP → the VPC's zone
 *     map dnat_to     EIP . proto . port → private address . port
 *     chain raw      prerouting raw: zone and mark, or notrack
 *     chain local    output raw: notrack (the node's own traffic)
 *     chain dstnat   port forwarding
 *     chain srcnat   one rule per SNAT rule, most specific source first
 *     chain leak     nothing private leaves for the internet untranslated
 *   ip rule 30000+  iif i0 fwmark <zone> lookup NAT_TABLE_BASE + zone:
 *                   default via the VPC router's end of x<vni>
 *   table ANNOUNCE_TABLE: blackhole <EIP>/32 metric <rank>, which BIRD learns
 *                   and announces to the internet router with <rank> extra
 *                   AS hops: the node of rank 0 receives the EIPs' traffic,
 *                   the next one should it fail (region/bird.ts).
 *
 * The nft table carries a digest of its text in its comment, so the state
 * read back is one line, not a re-parsed ruleset (as knftables does).
 */
import { createHash } from 'node:crypto';
import type { HostDocument, NatContext } from '../../contract/host-document.js';
import { parseCidr, parseIp } from '../../core/cidr.js';
import { GATEWAY_INTERNET_LINK } from './edge.js';
import { qosClasses, type QosClass } from './eip-limits.js';
import type { RouteState, RuleState } from './state.js';

export const NAT_TABLE = 'weftnat';
/** Per-zone reply tables: NAT_TABLE_BASE + zone, below the route tables' TABLE_BASE. */
export const NAT_TABLE_BASE = 0x10000;
/** The table BIRD learns the NAT EIPs to announce from (region/bird.ts). */
export const ANNOUNCE_TABLE = 202;
export const NAT_RULE_PRIORITY = 30000;
/** The VPC router's end of the gateway link, as the gateway namespace sees it (plan.ts GATEWAY_ROUTER_HOP). */
const ROUTER_HOP = '169.254.0.2';
const PRIVATE = '{ 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 }';

/** What planning needs from the gateway namespace. */
export interface GatewayNsState {
  /** The comment of `table ip weftnat` ('' when the table has none; undefined when absent). */
  natTableComment?: string;
  rules: RuleState[];
  /** Routes of numbered tables (NAT reply tables and ANNOUNCE_TABLE). */
  tableRoutes: RouteState[];
}

interface NatVpc {
  vni: number;
  link: string;
  nat: NatContext;
}

const natVpcs = (doc: HostDocument, linkName: (vni: number) => string): NatVpc[] =>
  doc.vpcs.flatMap((v) => (v.nat ? [{ vni: v.vni, link: linkName(v.vni), nat: v.nat }] : [])).sort((a, b) => a.nat.zone - b.nat.zone);

/** Checks what reaches a command line. */
function validate(vpcs: NatVpc[]): void {
  const zones = new Set<number>();
  for (const { nat } of vpcs) {
    if (!Number.isInteger(nat.zone) || nat.zone < 1 || nat.zone > 65535 || zones.has(nat.zone)) throw new Error(`NAT: invalid or repeated zone ${nat.zone}`);
    zones.add(nat.zone);
    if (!Number.isInteger(nat.rank) || nat.rank < 0 || nat.rank > 64) throw new Error(`NAT: invalid rank ${nat.rank}`);
    for (const g of nat.gateways) {
      if (!/^nat-[a-z0-9]+$/.test(g.natGatewayId)) throw new Error(`invalid NAT gateway ID ${JSON.stringify(g.natGatewayId)}`);
      for (const ip of g.publicIps) if (parseIp(ip) === undefined) throw new Error(`${g.natGatewayId}: invalid EIP ${JSON.stringify(ip)}`);
      for (const [ip, mbps] of Object.entries(g.eipBandwidthMbps ?? {}))
        if (!g.publicIps.includes(ip) || !(mbps > 0)) throw new Error(`${g.natGatewayId}: invalid limit ${mbps} of ${JSON.stringify(ip)}`);
      for (const s of g.snat) {
        if (!parseCidr(s.source)) throw new Error(`${s.natGatewaySnatId}: invalid source ${JSON.stringify(s.source)}`);
        if (!s.publicIps.length || s.publicIps.some((ip) => !g.publicIps.includes(ip))) throw new Error(`${s.natGatewaySnatId}: EIPs not of ${g.natGatewayId}`);
      }
      for (const d of g.dnat) {
        const port = (p: number) => Number.isInteger(p) && p >= 1 && p <= 65535;
        if ((d.protocol !== 'tcp' && d.protocol !== 'udp') || !port(d.publicPort) || !port(d.privatePort) || parseIp(d.privateIp) === undefined || !g.publicIps.includes(d.publicIp))
          throw new Error(`${g.natGatewayId}: invalid DNAT rule ${JSON.stringify(d)}`);
      }
    }
  }
}

/** The `nft -f` text of table ip weftnat, without its comment. */
export function natTableText(vpcs: NatVpc[], qos: QosClass[] = []): string {
  const elems = (pairs: string[]) => (pairs.length ? ` elements = { ${pairs.join(', ')} };` : '');
  const eips = vpcs.flatMap((v) => v.nat.gateways.flatMap((g) => g.publicIps.map((ip) => ({ ip, zone: v.nat.zone }))));
  const dnat = vpcs.flatMap((v) => v.nat.gateways.flatMap((g) => g.dnat));
  const snat = vpcs.flatMap((v) =>
    v.nat.gateways.flatMap((g) =>
      g.snat.map((s) => {
        const to =
          s.publicIps.length === 1 ? s.publicIps[0]! : `jhash ip saddr mod ${s.publicIps.length} map { ${s.publicIps.map((ip, i) => `${i} : ${ip}`).join(', ')} }`;
        return { zone: v.nat.zone, prefix: parseCidr(s.source)!.prefix, line: `    oifname "${GATEWAY_INTERNET_LINK}" ct zone ${v.nat.zone} ip saddr ${s.source} snat ip to ${to}` };
      }),
    ),
  );
  // Within a VPC, the most specific source first (the compiler sorts each gateway's; across gateways, sort again).
  snat.sort((a, b) => a.zone - b.zone || b.prefix - a.prefix);
  const i0 = `"${GATEWAY_INTERNET_LINK}"`;
  // Per-address caps: 0 Mbit/s blocks the address, any other rate is an HTB class (eip-limits.ts qosClasses).
  const blocked = vpcs.flatMap((v) => v.nat.gateways.flatMap((g) => (g.qos ?? []).filter((q) => q.bandwidthMbps === 0).map((q) => `${v.nat.zone} . ${q.privateIp}`)));
  const classes = qos.map((q) => `${q.zone} . ${q.privateIp} : 1:${q.minor.toString(16)}`);
  return [
    `table ip ${NAT_TABLE} {`,
    `  map zone_of_if { typeof iifname : ct zone;${elems(vpcs.map((v) => `"${v.link}" : ${v.nat.zone}`))} }`,
    `  map mark_of_if { typeof iifname : meta mark;${elems(vpcs.map((v) => `"${v.link}" : ${v.nat.zone}`))} }`,
    `  map zone_of_eip { typeof ip daddr : ct zone;${elems(eips.map((e) => `${e.ip} : ${e.zone}`))} }`,
    `  map mark_of_eip { typeof ip daddr : meta mark;${elems(eips.map((e) => `${e.ip} : ${e.zone}`))} }`,
    `  map dnat_to { typeof ip daddr . meta l4proto . th dport : ip daddr . th dport;${elems(
      dnat.map((d) => `${d.publicIp} . ${d.protocol} . ${d.publicPort} : ${d.privateIp} . ${d.privatePort}`),
    )} }`,
    // What each private address sends and receives through the node, and the connections it opens (flow monitor).
    '  set acct_out { typeof ct zone . ip saddr; flags dynamic; counter; size 65536; }',
    '  set acct_in { typeof ct zone . ip daddr; flags dynamic; counter; size 65536; }',
    '  set acct_new { typeof ct zone . ip saddr; flags dynamic; counter; size 65536; }',
    `  set qos_block { typeof ct zone . ip saddr;${elems(blocked)} }`,
    `  map qos_class { typeof ct zone . ip saddr : meta priority;${elems(classes)} }`,
    '  chain raw {',
    '    type filter hook prerouting priority raw; policy accept;',
    `    iifname ${i0} meta mark set ip daddr map @mark_of_eip ct zone set ip daddr map @zone_of_eip accept`,
    `    iifname != ${i0} ip saddr ${PRIVATE} meta mark set iifname map @mark_of_if ct zone set iifname map @zone_of_if accept`,
    '    notrack',
    '  }',
    '  chain local {',
    '    type filter hook output priority raw; policy accept;',
    '    notrack',
    '  }',
    '  chain dstnat {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    `    iifname ${i0} dnat ip to ip daddr . meta l4proto . th dport map @dnat_to`,
    '  }',
    '  chain srcnat {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    ...snat.map((s) => s.line),
    '  }',
    '  chain account {',
    '    type filter hook forward priority 0; policy accept;',
    '    ct zone 0 accept',
    `    iifname != ${i0} ct zone . ip saddr @qos_block drop`,
    `    iifname != ${i0} update @acct_out { ct zone . ip saddr } meta priority set ct zone . ip saddr map @qos_class`,
    `    iifname != ${i0} ct state new update @acct_new { ct zone . ip saddr }`,
    `    iifname ${i0} update @acct_in { ct zone . ip daddr }`,
    `    iifname ${i0} ct state new update @acct_new { ct zone . ip daddr }`,
    '  }',
    '  chain leak {',
    '    type filter hook postrouting priority 200; policy accept;',
    `    oifname ${i0} ip saddr ${PRIVATE} drop`,
    '  }',
    '}',
  ].join('\n');
}

export const digestOf = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** Lines for `ip -batch` in the gateway namespace, and `nft -f` text (empty: nothing to change). */
export interface GatewayNatPlan {
  nft: string;
  ip: string[];
}

/** The plan for the gateway namespace's NAT state. `linkName`: the gateway link of a VNI (plan.ts gatewayLinkName). */
export function planGatewayNat(doc: HostDocument, actual: GatewayNsState, linkName: (vni: number) => string): GatewayNatPlan {
  const vpcs = natVpcs(doc, linkName);
  validate(vpcs);

  // nft: the whole table, replaced in one transaction when its digest differs; removed when no VPC has NAT.
  let nft = '';
  if (vpcs.length) {
    const text = natTableText(vpcs, qosClasses(doc));
    const comment = `weft ${digestOf(text)}`;
    if (actual.natTableComment !== comment) {
      const body = text.replace(`table ip ${NAT_TABLE} {`, `table ip ${NAT_TABLE} {\n  comment "${comment}"`);
      nft = `table ip ${NAT_TABLE}\ndelete table ip ${NAT_TABLE}\n${body}\n`;
    }
  } else if (actual.natTableComment !== undefined) nft = `delete table ip ${NAT_TABLE}\n`;

  // Rules and reply tables: one per zone.
  const ip: string[] = [];
  const wantRules = new Map(vpcs.map((v) => [`${NAT_RULE_PRIORITY} ${v.nat.zone}`, v]));
  const ours = (r: RuleState) => r.priority === NAT_RULE_PRIORITY;
  const ruleKey = (r: RuleState) => `${r.priority} ${Number(r.table) - NAT_TABLE_BASE}`;
  const haveRules = new Set(actual.rules.filter((r) => ours(r) && r.iif === GATEWAY_INTERNET_LINK).map(ruleKey));
  for (const r of actual.rules.filter(ours))
    if (r.iif !== GATEWAY_INTERNET_LINK || !wantRules.has(ruleKey(r))) ip.push(`rule del priority ${r.priority}${r.iif ? ` iif ${r.iif}` : ''} lookup ${r.table}`);
  for (const v of vpcs)
    if (!haveRules.has(`${NAT_RULE_PRIORITY} ${v.nat.zone}`))
      ip.push(`rule add priority ${NAT_RULE_PRIORITY} iif ${GATEWAY_INTERNET_LINK} fwmark ${v.nat.zone} lookup ${NAT_TABLE_BASE + v.nat.zone}`);

  const routes = new Map<string, { line: string; ok: (r: RouteState) => boolean }>();
  for (const v of vpcs) {
    const table = String(NAT_TABLE_BASE + v.nat.zone);
    routes.set(`${table} 0.0.0.0/0`, {
      line: `route replace default via ${ROUTER_HOP} dev ${v.link} onlink table ${table}`,
      ok: (r) => r.type === 'unicast' && r.gateway === ROUTER_HOP && r.dev === v.link && r.onlink,
    });
    for (const g of v.nat.gateways)
      for (const eip of g.publicIps)
        routes.set(`${ANNOUNCE_TABLE} ${eip}/32`, {
          line: `route replace blackhole ${eip}/32 proto static metric ${v.nat.rank} table ${ANNOUNCE_TABLE}`,
          ok: (r) => r.type === 'blackhole' && (r.metric ?? 0) === v.nat.rank,
        });
  }
  const managed = (t: string | undefined) => {
    const n = Number(t);
    return n === ANNOUNCE_TABLE || (n > NAT_TABLE_BASE && n <= NAT_TABLE_BASE + 65535);
  };
  // A route that is not right goes first (its metric is part of its key: a replace with another would add a second).
  const right = new Set<string>();
  for (const r of actual.tableRoutes.filter((r) => managed(r.table))) {
    const key = `${r.table} ${r.dst}`;
    if (routes.get(key)?.ok(r) && !right.has(key)) right.add(key);
    else ip.push(`route del ${r.type === 'unicast' ? '' : `${r.type} `}${r.dst} table ${r.table}${r.metric ? ` metric ${r.metric}` : ''}`);
  }
  for (const [key, w] of routes) if (!right.has(key)) ip.push(w.line);
  return { nft, ip };
}

/** The comment of `nft list table ip weftnat` output: `comment "…"` on its own line. */
export function parseTableComment(text: string): string {
  return /^\s*comment "([^"]*)"/m.exec(text)?.[1] ?? '';
}
