/**
 * The check of a gateway node's flow report (contract/agent-report.ts
 * GatewayFlowReport), as a pure function: the controller keeps nothing of a
 * report that fails it, and never throws on one. Counters are non-negative
 * whole numbers a double holds exactly; times are ISO 8601 with a zone, not
 * more than MAX_SKEW_MS ahead of the controller's clock (a time far ahead
 * would hold back every later sample of the node: samples no later than the
 * last one kept are dropped as repeats).
 */
import type { GatewayFlowSample } from '../contract/agent-report.js';
import { parseIp } from './cidr.js';

export const MAX_SAMPLES = 50_000;
export const MAX_SKEW_MS = 5 * 60_000;

const NAT_ID = /^nat-[0-9a-z]{8}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const NUMBERS = ['inBytes', 'outBytes', 'inPackets', 'outPackets', 'connections', 'newConnections'] as const;

/** A sample as the controller keeps it: its time in epoch ms. */
export interface CheckedSample extends Omit<GatewayFlowSample, 'at'> {
  at: number;
}

export type CheckedReport = { ok: true; samples: CheckedSample[] } | { ok: false; errors: string[] };

export function checkFlowReport(body: unknown, now: number): CheckedReport {
  const errors: string[] = [];
  const flows = (body as { flows?: unknown } | null)?.flows;
  if (typeof body !== 'object' || body === null || !Array.isArray(flows)) return { ok: false, errors: ['the body must be {"flows": [samples]}'] };
  if (flows.length > MAX_SAMPLES) return { ok: false, errors: [`at most ${MAX_SAMPLES} samples per report; ${flows.length} were sent`] };
  const samples: CheckedSample[] = [];
  for (const [i, f] of flows.entries()) {
    const bad = (why: string) => void errors.push(`flows.${i}: ${why}`);
    if (typeof f !== 'object' || f === null) {
      bad('not an object');
      continue;
    }
    const s = f as Record<string, unknown>;
    const ip = typeof s.privateIp === 'string' ? parseIp(s.privateIp) : undefined;
    const at = typeof s.at === 'string' && ISO.test(s.at) ? Date.parse(s.at) : NaN;
    if (typeof s.natGatewayId !== 'string' || !NAT_ID.test(s.natGatewayId)) bad('natGatewayId is not a NAT gateway ID (nat-xxxxxxxx)');
    if (ip === undefined) bad('privateIp is not an IPv4 address');
    if (Number.isNaN(at)) bad('at is not an ISO 8601 time with a zone');
    else if (at > now + MAX_SKEW_MS) bad(`at (${String(s.at)}) is ahead of the controller's clock by more than ${MAX_SKEW_MS / 1000} s`);
    for (const k of NUMBERS) if (!(Number.isSafeInteger(s[k]) && (s[k] as number) >= 0)) bad(`${k} is not a non-negative whole number`);
    if (errors.length > 20) break;
    samples.push({
      natGatewayId: s.natGatewayId as string,
      privateIp: s.privateIp as string,
      at,
      inBytes: s.inBytes as number,
      outBytes: s.outBytes as number,
      inPackets: s.inPackets as number,
      outPackets: s.outPackets as number,
      connections: s.connections as number,
      newConnections: s.newConnections as number,
    });
  }
  return errors.length ? { ok: false, errors: errors.slice(0, 20) } : { ok: true, samples };
}
