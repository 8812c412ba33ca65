/**
 * An in-process load generator for the API: N workers, each with one request
 * in flight at a time over a shared keep-alive agent, every request built and
 * TC3-signed as it is sent (as a real client pays for it: nothing pre-signed).
 *
 * A run is a warm-up followed by measured windows back to back. Figures count
 * requests that complete inside a window, and are medians over the windows; latency is from just before the request is
 * built and signed to the end of the parsed response. The generator's own CPU
 * is measured too: on a small machine it competes with the server for cores;
 * and so is everything else the machine runs meanwhile (`cpu.other`).
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { SERVICE_VERSIONS, type Service } from '../../src/api/action.js';
import { authorize } from '../../src/api/tc3-signature.js';
import { cpuSeconds, machineBusySeconds } from './proc.js';
import { median, round, summarize, type Summary } from './stats.js';

export interface Target {
  endpoint: string; // host:port
  secretId: string;
  secretKey: string;
  region: string;
}

export interface ApiResponse {
  Error?: { Code: string; Message: string };
  RequestId: string;
  [k: string]: unknown;
}

export class ApiClient {
  readonly agent: http.Agent;
  private readonly host: string;
  private readonly port: number;
  private readonly signService: string;

  constructor(
    private readonly target: Target,
    maxSockets = 64,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
    const url = new URL(`http://${target.endpoint}`);
    this.host = url.hostname;
    this.port = Number(url.port);
    // As the official SDK does for a host that is not a Tencent name: the first label names the service.
    this.signService = url.hostname.split('.')[0]!;
  }

  call(service: Service, action: string, params: unknown): Promise<ApiResponse> {
    const body = Buffer.from(JSON.stringify(params ?? {}));
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      host: this.target.endpoint,
      'x-tc-action': action,
      'x-tc-version': SERVICE_VERSIONS[service],
      'x-tc-timestamp': String(timestamp),
      'x-tc-region': this.target.region,
    };
    headers.authorization = authorize(
      { method: 'POST', path: '/', query: '', headers, body, timestamp },
      this.target.secretId,
      this.target.secretKey,
      this.signService,
    );
    headers['content-length'] = String(body.length);
    return new Promise((ok, fail) => {
      const req = http.request({ agent: this.agent, host: this.host, port: this.port, method: 'POST', path: '/', headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            ok((JSON.parse(text) as { Response: ApiResponse }).Response);
          } catch {
            fail(new Error(`${action}: HTTP ${res.statusCode} with a body that is not JSON: ${text.slice(0, 200)}`));
          }
        });
      });
      req.on('error', fail);
      req.end(body);
    });
  }

  /** Calls and throws on an API error: for setup steps, not for measured load. */
  async must(service: Service, action: string, params: unknown): Promise<ApiResponse> {
    const r = await this.call(service, action, params);
    if (r.Error) throw new Error(`${action} failed: ${r.Error.Code}: ${r.Error.Message}`);
    return r;
  }

  close() {
    this.agent.destroy();
  }
}

export interface Request {
  service: Service;
  action: string;
  params: unknown;
}

export interface LoadOptions {
  concurrency: number;
  warmupMs: number;
  /** Length of one measured window. */
  durationMs: number;
  /** Measured windows back to back after the warm-up (default 1); figures are their medians. */
  rounds?: number;
  /** The n-th request of the run (n counts from 0 across all workers). */
  next(n: number): Request;
  /** Processes whose CPU to report: the server, and database backends (looked up at each reading). */
  serverPid?: number;
  dbPids?: () => number[];
}

/** Average cores busy (1 = one core fully): ours, and everything else on the machine. */
export interface CpuShare {
  generator: number;
  server?: number;
  database?: number;
  /** The rest of the machine: other processes competing for the same cores. */
  other: number;
}

export interface WindowResult {
  requests: number;
  perSecond: number;
  /** Milliseconds. */
  latency: Summary;
  errors: number;
  cpu: CpuShare;
  /** CPU microseconds per completed request. */
  cpuPerRequestUs: { generator: number; server?: number; database?: number };
}

export interface LoadResult {
  concurrency: number;
  windowSeconds: number;
  /** Medians over the windows. */
  perSecond: number;
  p50: number;
  p99: number;
  /** [min, max] over the windows. */
  range: { perSecond: [number, number]; p50: [number, number]; p99: [number, number] };
  /** All windows' requests together, milliseconds. */
  latency: Summary;
  errors: number;
  errorCodes: Record<string, number>;
  firstError?: string;
  /** Medians over the windows. */
  cpu: CpuShare;
  cpuPerRequestUs: { generator: number; server?: number; database?: number };
  windows: WindowResult[];
}

interface Snapshot {
  at: number;
  gen: number;
  server: number;
  db: Map<number, number>;
  machine: number;
}

export async function runLoad(client: ApiClient, o: LoadOptions): Promise<LoadResult> {
  const rounds = o.rounds ?? 1;
  const snapshot = (): Snapshot => {
    const g = process.cpuUsage();
    return {
      at: performance.now(),
      gen: (g.user + g.system) / 1e6,
      server: o.serverPid ? cpuSeconds(o.serverPid) : 0,
      db: new Map((o.dbPids?.() ?? []).map((p) => [p, cpuSeconds(p)])),
      machine: machineBusySeconds(),
    };
  };
  let n = 0;
  const start = performance.now();
  const windowStart = start + o.warmupMs;
  const end = windowStart + rounds * o.durationMs;
  const latencies: number[][] = Array.from({ length: rounds }, () => []);
  const errorsIn = new Array<number>(rounds).fill(0);
  const errorCodes: Record<string, number> = {};
  let firstError: string | undefined;

  // CPU readings at each window boundary.
  const snaps: (Snapshot | undefined)[] = new Array(rounds + 1);
  const timers = Array.from({ length: rounds + 1 }, (_, i) => setTimeout(() => (snaps[i] = snapshot()), o.warmupMs + i * o.durationMs));

  async function worker() {
    for (;;) {
      const t0 = performance.now();
      if (t0 >= end) return;
      const r = o.next(n++);
      let code: string | undefined;
      let message = '';
      try {
        const res = await client.call(r.service, r.action, r.params);
        if (res.Error) {
          code = res.Error.Code;
          message = res.Error.Message;
        }
      } catch (e) {
        code = 'transport';
        message = (e as Error).message;
      }
      const t1 = performance.now();
      if (t1 < windowStart || t1 >= end) continue;
      const w = Math.floor((t1 - windowStart) / o.durationMs);
      latencies[w]!.push(t1 - t0);
      if (code) {
        errorsIn[w]!++;
        errorCodes[code] = (errorCodes[code] ?? 0) + 1;
        firstError ??= `${r.action}: ${code}: ${message}`;
      }
    }
  }
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  timers.forEach(clearTimeout);
  // A timer that had not fired (the last request ended early): read now.
  for (let i = 0; i <= rounds; i++) snaps[i] ??= snapshot();

  const seconds = o.durationMs / 1000;
  const windows: WindowResult[] = latencies.map((l, i) => {
    const a = snaps[i]!;
    const b = snaps[i + 1]!;
    const span = (b.at - a.at) / 1000;
    const gen = b.gen - a.gen;
    const server = o.serverPid ? b.server - a.server : undefined;
    const database = o.dbPids ? [...b.db].reduce((s, [pid, t]) => s + t - (a.db.get(pid) ?? 0), 0) : undefined;
    const other = Math.max(0, b.machine - a.machine - gen - (server ?? 0) - (database ?? 0));
    const perReq = (cpu: number | undefined) => (cpu === undefined || !l.length ? undefined : round((cpu / l.length) * 1e6));
    const cores = (cpu: number | undefined) => (cpu === undefined ? undefined : round(cpu / span));
    return {
      requests: l.length,
      perSecond: round(l.length / seconds),
      latency: roundSummary(summarize(l)),
      errors: errorsIn[i]!,
      cpu: { generator: cores(gen)!, server: cores(server), database: cores(database), other: cores(other)! },
      cpuPerRequestUs: { generator: perReq(gen) ?? NaN, server: perReq(server), database: perReq(database) },
    };
  });
  const med = (f: (w: WindowResult) => number | undefined) => {
    const v = windows.map(f);
    return v.some((x) => x === undefined) ? undefined : round(median(v as number[]));
  };
  const range = (f: (w: WindowResult) => number): [number, number] => [Math.min(...windows.map(f)), Math.max(...windows.map(f))];
  return {
    concurrency: o.concurrency,
    windowSeconds: seconds,
    perSecond: med((w) => w.perSecond)!,
    p50: med((w) => w.latency.p50)!,
    p99: med((w) => w.latency.p99)!,
    range: { perSecond: range((w) => w.perSecond), p50: range((w) => w.latency.p50), p99: range((w) => w.latency.p99) },
    latency: roundSummary(summarize(latencies.flat())),
    errors: errorsIn.reduce((s, e) => s + e, 0),
    errorCodes,
    firstError,
    cpu: { generator: med((w) => w.cpu.generator)!, server: med((w) => w.cpu.server), database: med((w) => w.cpu.database), other: med((w) => w.cpu.other)! },
    cpuPerRequestUs: {
      generator: med((w) => w.cpuPerRequestUs.generator)!,
      server: med((w) => w.cpuPerRequestUs.server),
      database: med((w) => w.cpuPerRequestUs.database),
    },
    windows,
  };
}

const roundSummary = (s: Summary): Summary => ({
  count: s.count,
  min: round(s.min),
  mean: round(s.mean),
  p50: round(s.p50),
  p90: round(s.p90),
  p99: round(s.p99),
  max: round(s.max),
});
