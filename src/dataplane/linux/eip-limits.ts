/**
 * EIP bandwidth limits on a gateway node (docs/public-network.md, "EIP
 * bandwidth limits"): what leaves for the internet from an EIP is shaped on
 * the node's internet link by HTB, one class per EIP at this node's share of
 * the EIP's limit, with two children — SSH/RDP (ports 22 and 3389) first,
 * everything else after, as source document 000 asks. Classification is by
 * `meta priority` from nft (HTB takes skb->priority when it names one of its
 * classes), after translation, so the EIP is the source. Pure; driver.ts
 * reads the state and runs the plan.
 *
 *   tc qdisc  i0 root 1: htb (unclassified traffic is not shaped)
 *   tc class  1:<m>    rate = ceil = share           the EIP
 *             1:<m+1>  rate share, prio 0            SSH/RDP
 *             1:<m+2>  rate 8kbit, ceil share, prio 1 the rest
 *   table ip weftqos   map class_of / first_class_of, EIP → class (chain in
 *                      postrouting after source NAT); comment "weft <digest>"
 *
 * The share: a pinned EIP (small limit, carried by the owner node only) gets
 * all of it; any other its measured share (`shares`, from the controller's
 * re-split every few seconds), or limit / nodes until there is one for its
 * current limit (a new limit takes effect at the next apply, not 5 s later).
 */
import type { HostDocument } from '../../contract/host-document.js';
import { parseIp } from '../../core/cidr.js';
import { digestOf } from './nat-gateway.js';
import { GATEWAY_INTERNET_LINK } from './edge.js';

export const QOS_TABLE = 'weftqos';
/** Ports whose traffic goes first under an EIP's limit: SSH and RDP, either end. */
export const FIRST_PORTS = [22, 3389];
const OTHER_MIN_BPS = 8000;

export interface LimitClass {
  publicIp: string;
  /** Minor of the EIP's class; +1 is SSH/RDP, +2 the rest. */
  minor: number;
  /** This node's share of the limit, bit/s. */
  rateBps: number;
  limitBps: number;
}

/** An HTB class as `tc class show` prints it. */
export interface TcClass {
  minor: number;
  parentMinor?: number;
  rateBps: number;
  ceilBps: number;
  prio?: number;
  bytes?: number;
  dropped?: number;
  overlimits?: number;
}

export interface LimitsState {
  /** The root qdisc of the internet link is htb with handle 1: */
  htbRoot: boolean;
  classes: TcClass[];
  /** Comment of table ip weftqos; undefined when absent. */
  qosComment?: string;
}

/** A node's share of an EIP's limit (bit/s), and the limit it is a share of: a share of another limit is no share. */
export interface LimitShare {
  limitBps: number;
  bps: number;
}

/** Classes per EIP: minors 4·slot+1 … +3 (slots 1–8190: below 0x8000), from the address, collisions to the next free slot in address order. */
export function limitClasses(doc: HostDocument, shares: ReadonlyMap<string, LimitShare>): LimitClass[] {
  const nodes = Math.max(1, doc.gatewayNodes ?? 1);
  // Instances' EIPs, and NAT gateways' (carried by the VPC's owner node alone: all of the limit, like a pinned EIP).
  const natEips = doc.vpcs.flatMap((v) =>
    (v.nat?.gateways ?? []).flatMap((g) => Object.entries(g.eipBandwidthMbps ?? {}).map(([publicIp, bandwidthMbps]) => ({ publicIp, bandwidthMbps, pinned: true as const }))),
  );
  const eips = [...doc.vpcs.flatMap((v) => v.eips ?? []), ...natEips].filter((e) => e.bandwidthMbps > 0);
  eips.sort((a, b) => parseIp(a.publicIp)! - parseIp(b.publicIp)!);
  const taken = new Set<number>();
  return eips.map((e) => {
    let slot = (parseIp(e.publicIp)! % 8190) + 1;
    while (taken.has(slot)) slot = (slot % 8190) + 1;
    taken.add(slot);
    const limitBps = e.bandwidthMbps * 1_000_000;
    const share = shares.get(e.publicIp);
    const rateBps = e.pinned ? limitBps : share?.limitBps === limitBps ? share.bps : limitBps / nodes;
    return { publicIp: e.publicIp, minor: slot * 4 + 1, rateBps: Math.max(OTHER_MIN_BPS * 2, Math.round(rateBps)), limitBps };
  });
}

/**
 * A NAT gateway's per-address cap (ModifyGatewayFlowQos): what the private
 * address sends out through the node, in the VPC's conntrack zone, in one
 * HTB class (minors from 0x8000; 0 Mbit/s is no class: nat-gateway.ts drops
 * it). Classified before source NAT, by zone and private address.
 */
export interface QosClass {
  zone: number;
  privateIp: string;
  minor: number;
  rateBps: number;
}

export function qosClasses(doc: HostDocument): QosClass[] {
  const caps = doc.vpcs.flatMap((v) =>
    v.nat ? v.nat.gateways.flatMap((g) => (g.qos ?? []).filter((q) => q.bandwidthMbps > 0).map((q) => ({ zone: v.nat!.zone, privateIp: q.privateIp, mbps: q.bandwidthMbps }))) : [],
  );
  caps.sort((a, b) => a.zone - b.zone || parseIp(a.privateIp)! - parseIp(b.privateIp)!);
  const taken = new Set<number>();
  const seen = new Set<string>();
  return caps.flatMap((c) => {
    const key = `${c.zone} ${c.privateIp}`;
    if (seen.has(key)) return []; // two gateways of a VPC capping one address: the first (lowest) cap
    seen.add(key);
    let slot = (c.zone * 7919 + parseIp(c.privateIp)!) % 0x7ff0;
    while (taken.has(slot)) slot = (slot + 1) % 0x7ff0;
    taken.add(slot);
    return [{ zone: c.zone, privateIp: c.privateIp, minor: 0x8000 + slot, rateBps: c.mbps * 1_000_000 }];
  });
}

/** Bursts of 5 ms at the rate (at least two full packets): the kernel's timer granularity must not cap the rate. */
const burst = (bps: number) => Math.max(3200, Math.round((bps / 8) * 0.005));
const hex = (n: number) => n.toString(16);

interface WantedClass {
  minor: number;
  parentMinor?: number;
  rateBps: number;
  ceilBps: number;
  prio?: number;
}

/** What each EIP's classes must look like. */
function wantedClasses(classes: LimitClass[]): WantedClass[] {
  return classes.flatMap((c) => [
    { minor: c.minor, rateBps: c.rateBps, ceilBps: c.rateBps },
    { minor: c.minor + 1, parentMinor: c.minor, rateBps: c.rateBps, ceilBps: c.rateBps, prio: 0 },
    { minor: c.minor + 2, parentMinor: c.minor, rateBps: OTHER_MIN_BPS, ceilBps: c.rateBps, prio: 1 },
  ]);
}

/** Rates as tc prints them are rounded: within 1 % is the same. */
const near = (a: number, b: number) => Math.abs(a - b) <= Math.max(1000, b * 0.01);

export function qosTableText(classes: LimitClass[]): string {
  const elems = (pairs: string[]) => (pairs.length ? ` elements = { ${pairs.join(', ')} };` : '');
  const i0 = `"${GATEWAY_INTERNET_LINK}"`;
  const ports = `{ ${FIRST_PORTS.join(', ')} }`;
  return [
    `table ip ${QOS_TABLE} {`,
    `  map class_of { typeof ip saddr : meta priority;${elems(classes.map((c) => `${c.publicIp} : 1:${hex(c.minor + 2)}`))} }`,
    `  map first_class_of { typeof ip saddr : meta priority;${elems(classes.map((c) => `${c.publicIp} : 1:${hex(c.minor + 1)}`))} }`,
    '  chain classify {',
    '    type filter hook postrouting priority 300; policy accept;',
    // A NAT address with its own cap (nat-gateway.ts qos_class, minors from 0x8000) keeps it.
    `    oifname ${i0} meta priority < 1:8000 meta priority set ip saddr map @class_of`,
    `    oifname ${i0} tcp sport ${ports} meta priority < 1:8000 meta priority set ip saddr map @first_class_of`,
    `    oifname ${i0} tcp dport ${ports} meta priority < 1:8000 meta priority set ip saddr map @first_class_of`,
    '  }',
    '}',
  ].join('\n');
}

/** `tc -batch` lines and `nft -f` text that make the node's limits match (empty: nothing to do). */
export function planLimits(classes: LimitClass[], actual: LimitsState, qos: QosClass[] = []): { tc: string[]; nft: string } {
  const dev = GATEWAY_INTERNET_LINK;
  const tc: string[] = [];
  const want: WantedClass[] = [...wantedClasses(classes), ...qos.map((q) => ({ minor: q.minor, rateBps: q.rateBps, ceilBps: q.rateBps }))];
  if (want.length && !actual.htbRoot) tc.push(`qdisc replace dev ${dev} root handle 1: htb`);
  const have = actual.htbRoot ? actual.classes : [];
  const wanted = new Set(want.map((w) => w.minor));
  // Children before parents when deleting; parents before children when adding (want is in that order).
  for (const c of [...have].sort((a, b) => (b.parentMinor ?? 0) - (a.parentMinor ?? 0))) if (!wanted.has(c.minor)) tc.push(`class del dev ${dev} classid 1:${hex(c.minor)}`);
  for (const w of want) {
    const c = have.find((x) => x.minor === w.minor);
    const ok = c && c.parentMinor === w.parentMinor && near(c.rateBps, w.rateBps) && near(c.ceilBps, w.ceilBps) && (w.prio === undefined || c.prio === w.prio);
    if (ok) continue;
    const parent = w.parentMinor === undefined ? '1:' : `1:${hex(w.parentMinor)}`;
    const b = burst(w.ceilBps);
    tc.push(`class replace dev ${dev} parent ${parent} classid 1:${hex(w.minor)} htb rate ${w.rateBps}bit ceil ${w.ceilBps}bit burst ${b} cburst ${b} quantum 1514${w.prio === undefined ? '' : ` prio ${w.prio}`}`);
  }
  if (!want.length && actual.htbRoot) tc.push(`qdisc del dev ${dev} root`);

  let nft = '';
  if (classes.length) {
    const text = qosTableText(classes);
    const comment = `weft ${digestOf(text)}`;
    if (actual.qosComment !== comment) nft = `table ip ${QOS_TABLE}\ndelete table ip ${QOS_TABLE}\n${text.replace(`table ip ${QOS_TABLE} {`, `table ip ${QOS_TABLE} {\n  comment "${comment}"`)}\n`;
  } else if (actual.qosComment !== undefined) nft = `delete table ip ${QOS_TABLE}\n`;
  return { tc, nft };
}

const UNITS: Record<string, number> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9 };
const rate = (text: string) => {
  const m = /^([\d.]+)([KMG]?bit)$/i.exec(text);
  return m ? Number(m[1]) * UNITS[m[2]!.toLowerCase()]! : NaN;
};

/** `tc -s class show dev i0` (iproute2 prints HTB classes as text only). */
export function parseTcClasses(text: string): TcClass[] {
  const out: TcClass[] = [];
  for (const block of text.split(/\n(?=class )/)) {
    const head = /^class htb 1:([0-9a-f]+) (?:parent 1:([0-9a-f]+)|root)(?: leaf \S+)?(?: prio (\d+))? rate (\S+) ceil (\S+)/.exec(block.trim());
    if (!head) continue;
    const c: TcClass = { minor: parseInt(head[1]!, 16), rateBps: rate(head[4]!), ceilBps: rate(head[5]!) };
    if (head[2]) c.parentMinor = parseInt(head[2], 16);
    if (head[3]) c.prio = Number(head[3]);
    const sent = /Sent (\d+) bytes \d+ pkt \(dropped (\d+), overlimits (\d+)/.exec(block);
    if (sent) Object.assign(c, { bytes: Number(sent[1]), dropped: Number(sent[2]), overlimits: Number(sent[3]) });
    out.push(c);
  }
  return out;
}

/** Whether `tc qdisc show dev i0` shows htb 1: at the root. */
export const parseHtbRoot = (text: string) => /^qdisc htb 1: root/m.test(text);
