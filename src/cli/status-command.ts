/**
 * `weft status --data-dir DIR [--json]`: the region at a glance
 * (controller/region-status.ts). Asked of the running controller through
 * its DescribeRegionStatus action (it knows which agents are connected and
 * which documents it serves); when the controller does not answer, read from
 * the data dir's store, with the controller shown down and no agent
 * connected. JSON: `{ controller, store, hosts: [{ name, role, connected,
 * revision, appliedRevision, lastAudit, driftRepairs, … }] }`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { call } from './client.js';
import { regionStatus, renderStatus, type RegionStatus } from '../controller/region-status.js';
import { openDataDirStore } from './data-dir-store.js';
import { paths } from '../region/layout.js';

/** The API's PascalCase back to the contract's camelCase (the inverse of api/vpc/trace.ts `pascal`). */
export function camel(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(camel);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k[0]!.toLowerCase() + k.slice(1), camel(x)]));
  return v;
}

const readJson = <T>(f: string): T | undefined => (existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as T) : undefined);

export async function statusOf(dataDir: string): Promise<{ status: RegionStatus; problem?: string }> {
  const creds = readJson<{ SecretId: string; SecretKey: string; Endpoint: string; Region: string }>(join(dataDir, 'credentials.json'));
  const run = readJson<{ pid?: number }>(paths(dataDir).run);
  let problem: string | undefined;
  if (creds) {
    try {
      const res = await call({ endpoint: creds.Endpoint, secretId: creds.SecretId, secretKey: creds.SecretKey, region: creds.Region, timeoutMs: 15_000 }, 'vpc', 'DescribeRegionStatus', {});
      const r = res.Response;
      if (!r.Error) {
        const { RequestId: _id, ...rest } = r;
        return { status: camel(rest) as RegionStatus };
      }
      problem = `the controller answered ${r.Error.Code}: ${r.Error.Message}`;
    } catch (e) {
      problem = `the controller at ${creds.Endpoint} does not answer (${(e as { cause?: { message?: string } }).cause?.message ?? (e as Error).message})`;
    }
  }
  const store = await openDataDirStore(dataDir, undefined, problem);
  try {
    const status = await regionStatus(store, { controller: { up: false, pid: run?.pid ?? null, address: creds?.Endpoint ?? null } });
    return { status, ...(problem ? { problem } : {}) };
  } finally {
    await store.close();
  }
}

export function addStatusCommand(program: Command) {
  program
    .command('status')
    .description('the region at a glance: controller, store, every host with its agent, compiled vs applied revision, last audit, drift found and repaired')
    .requiredOption('--data-dir <dir>')
    .option('--json', 'JSON: { controller, store, hosts: [{ name, role, connected, revision, appliedRevision, lastAudit, driftRepairs, … }] }')
    .action(async (o: { dataDir: string; json?: boolean }) => {
      const { status, problem } = await statusOf(o.dataDir);
      if (problem) console.error(`weft status: ${problem}; showing the store as it stands`);
      console.log(o.json ? JSON.stringify(status, null, 2) : renderStatus(status));
    });
}
