/**
 * The agent's probes (docs/operations.md, "NetDetect and underlay
 * monitoring"), every `periodMs`, reported to the controller
 * (POST …/hosts/{id}/probes, ProbeReport):
 *  - NetDetect: for each detection whose source this host holds, ICMP
 *    echoes to each destination from that source in the VPC's router; the
 *    data plane's rule for the source forces the next hop
 *    (dataplane/linux/net-detect-routes.ts), and every other host routes the
 *    answers back here (the source is a remote endpoint there);
 *  - underlay: ICMP echoes to each tunnel peer (the hosts of the VPCs'
 *    remote instances, the LB nodes) from the host's own underlay context.
 * `ping` (iputils) does the measuring. One round at a time: a slow round
 * delays the next rather than piling up.
 */
import { execFile } from 'node:child_process';
import type { HostDocument } from '../contract/host-document.js';
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

/** What a round probes: pure, from the document. */
export function probeTargets(doc: HostDocument) {
  // A host probes the detections whose sources it holds, from the first (the others' answers come back elsewhere).
  const netDetects = doc.vpcs.flatMap((v) =>
    (v.netDetects ?? []).flatMap((d) => {
      const source = d.local[0];
      return source ? d.destinations.map((ip) => ({ vpcId: v.vpcId, netDetectId: d.netDetectId, source, ip })) : [];
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
