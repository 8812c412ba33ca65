/**
 * Checks an agent's ProbeReport before anything of it is kept: a malformed
 * report is refused whole, with what is wrong in it. Pure.
 */
import type { ProbeReport } from '../contract/agent-report.js';
import { parseIp } from './cidr.js';

export type CheckedProbeReport = { ok: true; report: ProbeReport } | { ok: false; errors: string[] };

const MAX_ENTRIES = 10_000;

export function checkProbeReport(body: unknown): CheckedProbeReport {
  const errors: string[] = [];
  const b = body as Partial<ProbeReport> | null;
  if (!b || typeof b !== 'object') return { ok: false, errors: ['the report is not an object'] };
  if (typeof b.at !== 'string' || !/^\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)$/.test(b.at) || Number.isNaN(Date.parse(b.at))) errors.push('`at` is not an ISO 8601 time with a zone');
  const figures = (e: Record<string, unknown>, where: string) => {
    const { sent, received, rttMs } = e;
    if (!Number.isInteger(sent) || (sent as number) < 0 || (sent as number) > 1000) errors.push(`${where}.sent is not an integer 0-1000`);
    else if (!Number.isInteger(received) || (received as number) < 0 || (received as number) > (sent as number)) errors.push(`${where}.received is not an integer 0-sent`);
    if (rttMs !== undefined && (typeof rttMs !== 'number' || !Number.isFinite(rttMs) || rttMs < 0)) errors.push(`${where}.rttMs is not a non-negative number`);
  };
  for (const [key, idOk] of [
    ['netDetects', (e: Record<string, unknown>) => typeof e.netDetectId === 'string' && /^netd-[0-9a-z]{8}$/.test(e.netDetectId) && typeof e.ip === 'string' && parseIp(e.ip) !== undefined],
    ['underlay', (e: Record<string, unknown>) => typeof e.underlay === 'string' && parseIp(e.underlay) !== undefined],
  ] as const) {
    const list = (b as Record<string, unknown>)[key];
    if (!Array.isArray(list)) {
      errors.push(`\`${key}\` is not an array`);
      continue;
    }
    if (list.length > MAX_ENTRIES) errors.push(`\`${key}\` has ${list.length} entries, more than ${MAX_ENTRIES}`);
    list.slice(0, MAX_ENTRIES).forEach((e: unknown, i) => {
      if (!e || typeof e !== 'object' || !idOk(e as Record<string, unknown>)) errors.push(`${key}.${i} does not name a ${key === 'underlay' ? 'peer by its IPv4 underlay address' : 'detection (netd-…) and an IPv4 destination'}`);
      else figures(e as Record<string, unknown>, `${key}.${i}`);
    });
  }
  return errors.length ? { ok: false, errors } : { ok: true, report: b as ProbeReport };
}
