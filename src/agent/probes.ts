/**
 * The agent's probes (docs/operations.md, "NetDetect and underlay
 * monitoring"), every `periodMs`, reported to the controller
 * (POST …/hosts/{id}/probes, ProbeReport):
 *  - NetDetect: for each detection in the document, ICMP echoes to each
 *    destination whose path this router can measure (`measurable`) from the
 *    subnet's gateway address in the VPC's router; the data plane's rule for
 *    that source forces the next hop (dataplane/linux/net-detect-routes.ts);
 *  - underlay: ICMP echoes to each tunnel peer (the hosts of the VPCs'
 *    remote instances, the LB nodes) from the host's own underlay context.
 * `ping` (iputils) does the measuring. One round at a time: a slow round
 * delays the next rather than piling up.
 */
import { execFile } from 'node:child_process';
import type { HostDocument, NetDetectProbe, VpcContext } from '../contract/host-document.js';
import { containsIp, parseCidr, parseIp } from '../core/cidr.js';
import type { ProbeReport } from '../contract/agent-report.js';
import { sendProbes, type LinkOptions } from './controller-link.js';
import { parsePing } from './ping.js';

export interface ProbeOptions extends LinkOptions {
  document: () => HostDocument | undefined;
  /** The command prefix that runs a command in a VPC's router context (`ip netns exec <ns>`). */
  inRouter: (vpcId: string) => string[];
  /** The command prefix for the host's underlay context (none on a real host: the agent runs there). */
  inUnderlay: string[];
  periodMs?: number;
  /** Echoes per target and per round. */
  count?: number;
  log: (msg: string) => void;
}

/** Echoes per target: 5 at 200 ms, 1 s to answer the last. */
export const ECHOES = 5;

/**
 * Whether this router can measure a detection's path: the echo replies come
 * back to the subnet's gateway address here only from an instance on this
 * host (its default route is this router). A next hop or destination on
 * another host answers into a router that does not route the address back
 * (docs/operations.md, "Limits of the kernel probe"), so such a path is left
 * to the tracer rather than reported as lost. NORMAL_CVM: the next hop is a
 * local port (or up nowhere: its forced route is a blackhole); NONEXTHOP: the destination is a local port, or the subnet's
 * route table sends it to local next hops only. Pure.
 */
export function measurable(v: VpcContext, d: NetDetectProbe, ip: string): boolean {
  const local = new Set(v.ports.map((p) => p.ip));
  // A next hop that is up nowhere is a blackhole here: every echo is lost, and that is what the kernel does.
  if (d.nextHop.type === 'NORMAL_CVM') return local.has(d.nextHop.ip) || !v.remotes.some((r) => r.ip === (d.nextHop as { ip: string }).ip);
  if (d.nextHop.type !== 'NONEXTHOP') return false;
  if (local.has(ip)) return true;
  const dst = parseIp(ip);
  const tableId = v.subnets.find((s) => s.subnetId === d.subnetId)?.routeTableId;
  const table = v.routeTables?.find((t) => t.routeTableId === tableId);
  if (dst === undefined || !table) return false;
  // Longest prefix first; instance /32s of the VPC (remotes) win before any table.
  if (v.remotes.some((r) => r.ip === ip)) return false;
  const route = table.routes
    .map((r) => ({ r, c: parseCidr(r.destination) }))
    .filter((x) => x.c && containsIp(x.c, dst))
    .sort((a, b) => b.c!.prefix - a.c!.prefix)[0]?.r;
  return route?.kind === 'instance' && route.nextHops.length > 0 && route.nextHops.every((h) => local.has(h.ip));
}

/** What a round probes: pure, from the document. */
export function probeTargets(doc: HostDocument) {
  const netDetects = doc.vpcs.flatMap((v) =>
    (v.netDetects ?? []).flatMap((d) => {
      const source = v.subnets.find((s) => s.subnetId === d.subnetId)?.gateway;
      return source ? d.destinations.filter((ip) => measurable(v, d, ip)).map((ip) => ({ vpcId: v.vpcId, netDetectId: d.netDetectId, source, ip })) : [];
    }),
  );
  const peers = new Set<string>();
  for (const v of doc.vpcs) {
    for (const r of v.remotes) peers.add(r.underlay);
    for (const n of v.lbNodes ?? []) peers.add(n.underlay);
  }
  peers.delete(doc.underlay);
  return { netDetects, underlay: [...peers].sort() };
}

function ping(prefix: string[], args: string[]): Promise<string> {
  const [cmd, ...rest] = [...prefix, 'ping', ...args];
  return new Promise((ok) => execFile(cmd!, rest, { timeout: 10_000 }, (_e, stdout, stderr) => ok(`${stdout}${stderr}`)));
}

async function measure(prefix: string[], target: string, count: number, source?: string) {
  const out = await ping(prefix, ['-n', '-q', '-c', String(count), '-i', '0.2', '-W', '1', ...(source ? ['-I', source] : []), target]);
  // No summary: ping could not send (no route, a blackhole): every echo is lost.
  return parsePing(out) ?? { sent: count, received: 0 };
}

/** At most `n` at once: a host with many peers does not fork them all together. */
async function inBatches<T, R>(items: readonly T[], n: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += n) out.push(...(await Promise.all(items.slice(i, i + n).map(f))));
  return out;
}

export async function probeRound(o: ProbeOptions, doc: HostDocument): Promise<ProbeReport> {
  const count = o.count ?? ECHOES;
  const t = probeTargets(doc);
  const at = new Date().toISOString();
  const [netDetects, underlay] = await Promise.all([
    inBatches(t.netDetects, 8, async (p) => ({ netDetectId: p.netDetectId, ip: p.ip, ...(await measure(o.inRouter(p.vpcId), p.ip, count, p.source)) })),
    inBatches(t.underlay, 8, async (peer) => ({ underlay: peer, ...(await measure(o.inUnderlay, peer, count)) })),
  ]);
  return { at, netDetects, underlay };
}

export function startProbes(o: ProbeOptions): { stop(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const round = async () => {
    const doc = o.document();
    if (doc && !stopped) {
      const report = await probeRound(o, doc);
      if ((report.netDetects.length || report.underlay.length) && !stopped) await sendProbes(o, report);
    }
  };
  const next = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      round()
        .catch((e: unknown) => o.log(`probe report failed: ${e instanceof Error ? e.message : String(e)}`))
        .finally(next);
    }, o.periodMs ?? 10_000);
  };
  next();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
