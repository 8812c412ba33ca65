/**
 * The flow monitor's figures on a gateway node (docs/public-network.md, "Flow
 * monitor and QoS"): per private address of a monitored NAT gateway, what it
 * sent and received through the node and the connections it opened — the
 * kernel's own counters, from the dynamic sets of `table ip weftnat`
 * (nat-gateway.ts: acct_out, acct_in, acct_new, keyed by conntrack zone and
 * private address) — and the sessions it holds now, from the conntrack
 * table. Pure: the driver reads the tools' output and hands it here.
 */
import type { GatewayFlowSample } from '../../contract/agent-report.js';
import type { HostDocument } from '../../contract/host-document.js';
import { PRIVATE_BLOCKS, containsIp, parseCidr, parseIp } from '../../core/cidr.js';

export interface Counter {
  bytes: number;
  packets: number;
}

/** `nft -j list set …` of a dynamic set with counters, keyed `zone . address`. */
export function parseCounterSet(json: unknown[]): Map<string, Counter> {
  const out = new Map<string, Counter>();
  for (const item of json as Record<string, unknown>[]) {
    const set = item.set as { elem?: unknown[] } | undefined;
    for (const e of set?.elem ?? []) {
      const el = (e as { elem?: { val?: unknown; counter?: Counter } }).elem;
      const key = (el?.val as { concat?: unknown[] } | undefined)?.concat;
      if (!el?.counter || !Array.isArray(key) || key.length !== 2) continue;
      out.set(`${key[0]} ${key[1]}`, { bytes: Number(el.counter.bytes) || 0, packets: Number(el.counter.packets) || 0 });
    }
  }
  return out;
}

/**
 * `conntrack -L` lines: sessions per `zone address`, the address being the
 * private end (the original source of an SNAT session, the reply source of a
 * port forwarding). Lines without a zone are not NAT sessions.
 */
export function countSessions(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const zone = /\bzone=(\d+)/.exec(line)?.[1];
    if (!zone) continue;
    const srcs = [...line.matchAll(/\bsrc=(\d+\.\d+\.\d+\.\d+)/g)].map((m) => m[1]!);
    const priv = [srcs[0], srcs[1]].find((ip) => ip && isPrivate(ip));
    if (!priv) continue;
    const key = `${zone} ${priv}`;
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

const isPrivate = (ip: string) => PRIVATE_BLOCKS.some((b) => containsIp(b.block, parseIp(ip)!));

/**
 * Samples for the monitored NAT gateways of `doc`: each private address seen
 * in a zone is the gateway's whose SNAT rule holds it (most specific first,
 * as the node translates) or whose DNAT rule forwards to it.
 */
export function flowSamples(doc: HostDocument, at: string, c: { out: Map<string, Counter>; in: Map<string, Counter>; new: Map<string, Counter>; sessions: Map<string, number> }): GatewayFlowSample[] {
  const samples: GatewayFlowSample[] = [];
  for (const v of doc.vpcs) {
    if (!v.nat || !v.nat.gateways.some((g) => g.flowMonitor)) continue;
    const zone = v.nat.zone;
    const rules = v.nat.gateways
      .flatMap((g) => g.snat.map((s) => ({ g, cidr: parseCidr(s.source)! })))
      .sort((a, b) => b.cidr.prefix - a.cidr.prefix);
    const owner = (ip: string) =>
      rules.find((r) => containsIp(r.cidr, parseIp(ip)!))?.g ?? v.nat!.gateways.find((g) => g.dnat.some((d) => d.privateIp === ip));
    const seen = new Set([...c.out.keys(), ...c.in.keys(), ...c.new.keys(), ...c.sessions.keys()].filter((k) => k.startsWith(`${zone} `)));
    for (const key of [...seen].sort()) {
      const ip = key.slice(key.indexOf(' ') + 1);
      const g = owner(ip);
      if (!g?.flowMonitor) continue;
      samples.push({
        natGatewayId: g.natGatewayId,
        privateIp: ip,
        at,
        outBytes: c.out.get(key)?.bytes ?? 0,
        outPackets: c.out.get(key)?.packets ?? 0,
        inBytes: c.in.get(key)?.bytes ?? 0,
        inPackets: c.in.get(key)?.packets ?? 0,
        connections: c.sessions.get(key) ?? 0,
        newConnections: c.new.get(key)?.packets ?? 0,
      });
    }
  }
  return samples;
}
