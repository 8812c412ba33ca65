/**
 * Per-instance counters: what the kernel counts for an instance's port, how
 * the agent reads it, and how the controller turns consecutive readings into
 * per-period figures. Pure.
 *
 * Traffic is the port veth's own counters (`ip -s -j link` in the router
 * namespace). Drops come from a counting table of the agent's, `inet
 * weftmon`, separate from the driver's `inet weft` (so the driver's
 * comparison of wanted and actual rules never sees a counter): four base
 * chains on the forward hook around the driver's chains, each looking the
 * packet's input and output port up in a set whose elements count
 * (`counter` sets: one lookup per stage whatever the number of ports).
 *
 *   stage pre  priority -20  before the ACL chain (-10)
 *   stage acl  priority  -5  after the ACLs, before the security groups' egress chain (0)
 *   stage sge  priority   5  between egress (0) and ingress (10)
 *   stage sgi  priority  15  after ingress
 *
 * What a chain drops never reaches the next stage, so for a port P
 *   ACL drops = (from P: pre − acl) + (to P: pre − acl)
 *   SG drops  = (from P: acl − sge) + (to P: sge − sgi)
 * Between two ports of one host, an ACL drop counts for both instances (it
 * dropped traffic of each); the SG split is exact: egress drops count for the
 * sender, ingress drops for the receiver.
 */
import type { InstanceCounterSample } from '../contract/agent-report.js';

export const MONITOR_TABLE = 'weftmon';
const STAGES = [
  ['pre', -20],
  ['acl', -5],
  ['sge', 5],
  ['sgi', 15],
] as const;
type Stage = (typeof STAGES)[number][0];
type Dir = 'out' | 'in';
const setName = (dir: Dir, stage: Stage) => `${dir}_${stage}`;

/** `nft -f` text that replaces the counting table with one counting exactly `ifnames` (counters start at 0). */
export function monitorTableScript(ifnames: readonly string[]): string {
  const elems = [...ifnames].sort().map((n) => JSON.stringify(n));
  const elements = elems.length ? ` elements = { ${elems.join(', ')} };` : '';
  const lines = [`add table inet ${MONITOR_TABLE}`, `delete table inet ${MONITOR_TABLE}`, `table inet ${MONITOR_TABLE} {`];
  for (const [stage] of STAGES)
    for (const dir of ['out', 'in'] as const) lines.push(`  set ${setName(dir, stage)} { type ifname; counter;${elements} }`);
  for (const [stage, prio] of STAGES)
    lines.push(
      `  chain ${stage} {`,
      `    type filter hook forward priority ${prio}; policy accept;`,
      `    iifname @${setName('out', stage)}`,
      `    oifname @${setName('in', stage)}`,
      '  }',
    );
  lines.push('}');
  return lines.join('\n') + '\n';
}

export interface PortDrops {
  sgDropPackets: number;
  aclDropPackets: number;
}

interface Counted {
  ifnames: string[];
  packets: Map<string, number>;
}

/** The sets of the counting table in an `nft -j list table inet weftmon` answer: packets per set and port. */
function countedOf(listing: unknown): Counted {
  // Either the whole `nft -j` answer or its `nftables` array.
  const entries = (Array.isArray(listing) ? listing : ((listing as { nftables?: unknown[] } | null)?.nftables ?? [])) as Record<string, Record<string, unknown>>[];
  const packets = new Map<string, number>();
  let ifnames: string[] = [];
  for (const e of entries) {
    const s = e.set;
    if (!s || s.table !== MONITOR_TABLE) continue;
    const names: string[] = [];
    for (const raw of (s.elem as unknown[] | undefined) ?? []) {
      // A counting element lists as {elem: {val, counter: {packets, bytes}}}; a plain one as the value.
      const el = (raw as { elem?: { val?: unknown; counter?: { packets?: unknown } } }).elem;
      const name = String(el?.val ?? raw);
      names.push(name);
      packets.set(`${String(s.name)} ${name}`, Number(el?.counter?.packets ?? 0));
    }
    if (s.name === setName('out', 'pre')) ifnames = names.sort();
  }
  return { ifnames, packets };
}

/** The ports the counting table counts, sorted (to compare with the document's ports). */
export const countedPorts = (listing: unknown): string[] => countedOf(listing).ifnames;

/** Drops per port from the counting table's listing; ports it does not count are absent. */
export function portDrops(listing: unknown): Map<string, PortDrops> {
  const { ifnames, packets } = countedOf(listing);
  const at = (dir: Dir, stage: Stage, port: string) => packets.get(`${setName(dir, stage)} ${port}`) ?? 0;
  // A packet between two stages when the sets were listed would show as a drop for a moment: never below 0.
  const gap = (dir: Dir, a: Stage, b: Stage, port: string) => Math.max(0, at(dir, a, port) - at(dir, b, port));
  return new Map(
    ifnames.map((p) => [
      p,
      {
        aclDropPackets: gap('out', 'pre', 'acl', p) + gap('in', 'pre', 'acl', p),
        sgDropPackets: gap('out', 'acl', 'sge', p) + gap('in', 'sge', 'sgi', p),
      },
    ]),
  );
}

export interface LinkStats {
  rxBytes: number;
  rxPackets: number;
  txBytes: number;
  txPackets: number;
}

/** Per-interface counters from `ip -s -j link show` (stats64). */
export function linkStats(json: unknown): Map<string, LinkStats> {
  const out = new Map<string, LinkStats>();
  for (const l of (Array.isArray(json) ? json : []) as { ifname?: string; stats64?: { rx?: Record<string, number>; tx?: Record<string, number> } }[]) {
    if (!l.ifname || !l.stats64) continue;
    const { rx = {}, tx = {} } = l.stats64;
    out.set(l.ifname, { rxBytes: Number(rx.bytes ?? 0), rxPackets: Number(rx.packets ?? 0), txBytes: Number(tx.bytes ?? 0), txPackets: Number(tx.packets ?? 0) });
  }
  return out;
}

/** The cumulative figures of one instance (the fields of InstanceCounterSample that count). */
export type Totals = Omit<InstanceCounterSample, 'instanceId' | 'at'>;
export const TOTAL_FIELDS = ['inBytes', 'outBytes', 'inPackets', 'outPackets', 'sgDropPackets', 'aclDropPackets'] as const;

/**
 * An instance's figures seen from its own side: the router end of the veth
 * receives what the instance sends (its out) and transmits what it receives.
 */
export function totalsOf(link: LinkStats, drops: PortDrops | undefined): Totals {
  return {
    outBytes: link.rxBytes,
    outPackets: link.rxPackets,
    inBytes: link.txBytes,
    inPackets: link.txPackets,
    sgDropPackets: drops?.sgDropPackets ?? 0,
    aclDropPackets: drops?.aclDropPackets ?? 0,
  };
}

/**
 * What happened between two readings, field by field: a counter that went
 * down started again from 0 (a recreated port resets the traffic counters, a
 * rewritten counting table the drops), so all it shows now is new.
 */
export function delta(prev: Totals | undefined, next: Totals): Totals | undefined {
  if (!prev) return undefined;
  const d = {} as Totals;
  for (const f of TOTAL_FIELDS) d[f] = next[f] >= prev[f] ? next[f] - prev[f] : next[f];
  return d;
}

/** Beyond this between two readings, what was counted is not placed in time (nothing says when it flowed). */
export const MAX_GAP_MS = 10 * 60_000;

/**
 * Spreads what was counted between `fromMs` and `toMs` over the `bucketMs`
 * buckets the interval overlaps, in proportion to the overlap (readings every
 * ~10 s are not aligned with the buckets). Whole units: the remainder of each
 * field goes to the last bucket, so the buckets sum to the delta exactly.
 */
export function spread(fromMs: number, toMs: number, d: Totals, bucketMs: number): { bucket: number; totals: Totals }[] {
  if (!(toMs > fromMs)) return [{ bucket: Math.floor(toMs / bucketMs) * bucketMs, totals: d }];
  const out: { bucket: number; totals: Totals }[] = [];
  const given = Object.fromEntries(TOTAL_FIELDS.map((f) => [f, 0])) as unknown as Totals;
  for (let b = Math.floor(fromMs / bucketMs) * bucketMs; b < toMs; b += bucketMs) {
    const last = b + bucketMs >= toMs;
    const share = (Math.min(toMs, b + bucketMs) - Math.max(fromMs, b)) / (toMs - fromMs);
    const totals = {} as Totals;
    for (const f of TOTAL_FIELDS) {
      totals[f] = last ? d[f] - given[f] : Math.floor(d[f] * share);
      given[f] += totals[f];
    }
    out.push({ bucket: b, totals });
  }
  return out;
}

export interface CheckedSample extends Totals {
  instanceId: string;
  atMs: number;
}

/**
 * A counter report as the controller takes it, or what is wrong with it
 * (the agent and the controller may be of different builds: nothing is
 * trusted). A reading from more than a minute ahead of `now` is refused: its
 * buckets would lie in the future.
 */
export function checkCounterReport(
  body: unknown,
  now: number,
): { ok: true; samples: CheckedSample[]; conntrack: { vpcId: string; entries: number }[] } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const b = body as { instances?: unknown; conntrack?: unknown } | null;
  if (!b || typeof b !== 'object' || !Array.isArray(b.instances) || !Array.isArray(b.conntrack))
    return { ok: false, errors: ['the report must be {instances: [...], conntrack: [...]}'] };
  const count = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  const samples: CheckedSample[] = [];
  b.instances.forEach((raw, i) => {
    const s = raw as Record<string, unknown>;
    const atMs = typeof s?.at === 'string' ? Date.parse(s.at) : NaN;
    if (typeof s?.instanceId !== 'string' || !/^ins-[a-z0-9]+$/.test(s.instanceId)) errors.push(`instances.${i}.instanceId is not an instance ID`);
    else if (!Number.isFinite(atMs) || atMs > now + 60_000) errors.push(`instances.${i}.at is not a time up to now`);
    else if (!TOTAL_FIELDS.every((f) => count(s[f]))) errors.push(`instances.${i}: ${TOTAL_FIELDS.join(', ')} must be counts (integers ≥ 0)`);
    else samples.push({ instanceId: s.instanceId, atMs, ...(Object.fromEntries(TOTAL_FIELDS.map((f) => [f, s[f]])) as unknown as Totals) });
  });
  const conntrack: { vpcId: string; entries: number }[] = [];
  b.conntrack.forEach((raw, i) => {
    const c = raw as Record<string, unknown>;
    if (typeof c?.vpcId !== 'string' || !/^vpc-[a-z0-9]+$/.test(c.vpcId) || !count(c.entries)) errors.push(`conntrack.${i} must be {vpcId, entries}`);
    else conntrack.push({ vpcId: c.vpcId, entries: c.entries as number });
  });
  return errors.length ? { ok: false, errors } : { ok: true, samples, conntrack };
}

// ---- elastic IPs, on a gateway node ----

/**
 * On a gateway node, `table ip weftmon` in each VPC router namespace with
 * EIPs counts each EIP's traffic around the driver's stateless translation
 * (`ip weft`, chain eip, prerouting priority -300): from the internet side
 * (pub0) before it, by destination (the EIP); from the tunnel or the owner
 * path (nat0) after it, by source (the EIP it now carries). NAT gateway
 * traffic on nat0 keeps its private source and is not counted here.
 */
export function eipTableScript(vni: number, publicIps: readonly string[]): string {
  const elems = [...publicIps].sort();
  const elements = elems.length ? ` elements = { ${elems.join(', ')} };` : '';
  return [
    `add table ip ${MONITOR_TABLE}`,
    `delete table ip ${MONITOR_TABLE}`,
    `table ip ${MONITOR_TABLE} {`,
    `  set eip_in { type ipv4_addr; counter;${elements} }`,
    `  set eip_out { type ipv4_addr; counter;${elements} }`,
    '  chain in {',
    '    type filter hook prerouting priority -310; policy accept;',
    '    iifname "pub0" ip daddr @eip_in',
    '  }',
    '  chain out {',
    '    type filter hook prerouting priority -290; policy accept;',
    `    iifname { "vx${vni}", "nat0" } ip saddr @eip_out`,
    '  }',
    '}',
  ].join('\n') + '\n';
}

export interface EipTotals {
  inBytes: number;
  inPackets: number;
  outBytes: number;
  outPackets: number;
}

/** Per EIP, from `nft -j list table ip weftmon`; the EIPs it counts are the keys. */
export function eipCounters(listing: unknown): Map<string, EipTotals> {
  const entries = (Array.isArray(listing) ? listing : ((listing as { nftables?: unknown[] } | null)?.nftables ?? [])) as Record<string, Record<string, unknown>>[];
  const out = new Map<string, EipTotals>();
  for (const e of entries) {
    const s = e.set;
    if (!s || s.table !== MONITOR_TABLE || (s.name !== 'eip_in' && s.name !== 'eip_out')) continue;
    for (const raw of (s.elem as unknown[] | undefined) ?? []) {
      const el = (raw as { elem?: { val?: unknown; counter?: { packets?: unknown; bytes?: unknown } } }).elem;
      const ip = String(el?.val ?? raw);
      const t = out.get(ip) ?? { inBytes: 0, inPackets: 0, outBytes: 0, outPackets: 0 };
      const [b, p] = s.name === 'eip_in' ? (['inBytes', 'inPackets'] as const) : (['outBytes', 'outPackets'] as const);
      t[b] = Number(el?.counter?.bytes ?? 0);
      t[p] = Number(el?.counter?.packets ?? 0);
      out.set(ip, t);
    }
  }
  return out;
}

export interface CheckedEipSample extends Totals {
  publicIp: string;
  atMs: number;
}

/** The `eips` of a counter report, or what is wrong with them (as checkCounterReport). */
export function checkEipSamples(raw: unknown, now: number): { ok: true; samples: CheckedEipSample[] } | { ok: false; errors: string[] } {
  if (raw === undefined) return { ok: true, samples: [] };
  if (!Array.isArray(raw)) return { ok: false, errors: ['eips must be an array'] };
  const errors: string[] = [];
  const samples: CheckedEipSample[] = [];
  const count = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  raw.forEach((r, i) => {
    const s = r as Record<string, unknown>;
    const atMs = typeof s?.at === 'string' ? Date.parse(s.at) : NaN;
    if (typeof s?.publicIp !== 'string' || !/^\d{1,3}(\.\d{1,3}){3}$/.test(s.publicIp)) errors.push(`eips.${i}.publicIp is not an IPv4 address`);
    else if (!Number.isFinite(atMs) || atMs > now + 60_000) errors.push(`eips.${i}.at is not a time up to now`);
    else if (!['inBytes', 'outBytes', 'inPackets', 'outPackets'].every((f) => count(s[f]))) errors.push(`eips.${i}: inBytes, outBytes, inPackets, outPackets must be counts`);
    else
      samples.push({
        publicIp: s.publicIp,
        atMs,
        inBytes: s.inBytes as number,
        outBytes: s.outBytes as number,
        inPackets: s.inPackets as number,
        outPackets: s.outPackets as number,
        sgDropPackets: 0,
        aclDropPackets: 0,
      });
  });
  return errors.length ? { ok: false, errors } : { ok: true, samples };
}
