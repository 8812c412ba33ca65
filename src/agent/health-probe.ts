/**
 * The LB node's health probe: one process per VPC router namespace, started
 * as `ip netns exec <ns> node dist/src/agent/health-probe.js` so that its
 * probes leave from that namespace.
 *
 * Input (stdin), newline-delimited JSON, each line the complete probe set:
 * `{ source, probes: [{ listenerId, ip, port, spec: HealthCheckSpec }] }`,
 * `source` the local address probes are sent from. Targets no longer in the
 * set stop being probed; new ones start at once (their first probes spread
 * over up to a second, or the interval when shorter); a target whose spec
 * changed keeps its state and probes by the new spec from its next probe (a
 * new interval counts from its last probe).
 *
 * Each target is probed every spec.intervalMs (from the start of one probe
 * to the start of the next, never two at once), each probe given
 * spec.timeoutMs: TCP connects and closes; HTTP sends spec.httpMethod
 * (default HEAD) spec.httpPath (default /) with Host spec.httpDomain (or the
 * ip) and succeeds when the status class's bit is in spec.httpCodes (1 = 1xx
 * … 16 = 5xx; default 2xx and 3xx); PING runs `ping -c 1 -W <s> -I <source>
 * <ip>`. spec.port, when set, replaces the target's port.
 *
 * Output (stdout): one JSON line, contract/agent-report.ts LbHealthReport
 * (the whole current state, targets by their own port), whenever a status
 * changes or the set of targets does, and every 30 s (`--report-ms <ms>`).
 * Exits when stdin closes.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import type { LbHealthReport } from '../contract/agent-report.js';
import type { HealthCheckSpec } from '../contract/host-document.js';
import { UNKNOWN_HEALTH, healthStep, type HealthState } from '../core/health-state.js';

export interface ProbeSet {
  source: string;
  probes: { listenerId: string; ip: string; port: number; spec: HealthCheckSpec }[];
}

/** Default accepted HTTP status classes when the spec names none: 2xx and 3xx. */
const DEFAULT_HTTP_CODES = 2 | 4;

/** One probe: resolves true on success, false on failure or timeout; never rejects. */
export function probeOnce(ip: string, port: number, spec: HealthCheckSpec, source: string): Promise<boolean> {
  const timeoutMs = Math.max(1, spec.timeoutMs);
  const port_ = spec.port ?? port;
  return new Promise((ok) => {
    let done = false;
    const finish = (v: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      cleanup();
      ok(v);
    };
    let cleanup = () => {};
    const timer = setTimeout(() => finish(false), timeoutMs);
    if (spec.type === 'tcp') {
      const s = net.connect({ host: ip, port: port_, localAddress: source });
      s.on('connect', () => finish(true));
      s.on('error', () => finish(false));
      cleanup = () => s.destroy();
    } else if (spec.type === 'http') {
      const req = http.request({
        host: ip,
        port: port_,
        localAddress: source,
        method: spec.httpMethod ?? 'HEAD',
        path: spec.httpPath || '/',
        headers: { Host: spec.httpDomain || ip, 'User-Agent': 'weft-health-check', Connection: 'close' },
        agent: false,
      });
      req.on('response', (res) => {
        const cls = Math.floor((res.statusCode ?? 0) / 100);
        finish(cls >= 1 && cls <= 5 && ((spec.httpCodes ?? DEFAULT_HTTP_CODES) & (1 << (cls - 1))) !== 0);
        res.resume();
      });
      req.on('error', () => finish(false));
      req.end();
      cleanup = () => req.destroy();
    } else {
      const wait = String(Math.max(1, Math.ceil(timeoutMs / 1000)));
      const p = spawn('ping', ['-c', '1', '-n', '-q', '-W', wait, '-I', source, ip], { stdio: 'ignore' });
      p.on('error', () => finish(false));
      p.on('close', (code) => finish(code === 0));
      cleanup = () => p.exitCode === null && p.signalCode === null && p.kill('SIGKILL');
    }
  });
}

interface Target {
  listenerId: string;
  ip: string;
  port: number;
  spec: HealthCheckSpec;
  state: HealthState;
  timer?: NodeJS.Timeout;
  /** When the last probe started (0: none yet); whether one is under way. */
  lastStart: number;
  inFlight: boolean;
  stopped: boolean;
}

export interface ProbeRunner {
  /** Takes a new complete probe set. */
  update(set: ProbeSet): void;
  /** The whole current state. */
  report(): LbHealthReport;
  stop(): void;
}

/**
 * The probing loop, without its input and output: `emit` receives the whole
 * state on every change of status or of the set, and every `reportMs`.
 */
export function createProbeRunner(emit: (r: LbHealthReport) => void, opts: { reportMs?: number; probe?: typeof probeOnce } = {}): ProbeRunner {
  const probe = opts.probe ?? probeOnce;
  const targets = new Map<string, Target>();
  let source = '0.0.0.0';
  let pending = false;
  const report = (): LbHealthReport => ({
    targets: [...targets.values()].map((t) => ({ listenerId: t.listenerId, ip: t.ip, port: t.port, status: t.state.status })),
  });
  // several changes in one turn of the event loop make one report
  const changed = () => {
    if (pending) return;
    pending = true;
    setImmediate(() => {
      pending = false;
      emit(report());
    });
  };
  const periodic = setInterval(() => emit(report()), opts.reportMs ?? 30_000);

  const schedule = (t: Target) => {
    clearTimeout(t.timer);
    t.timer = setTimeout(() => void run(t), Math.max(0, t.lastStart + Math.max(1, t.spec.intervalMs) - Date.now()));
  };
  const run = async (t: Target) => {
    t.lastStart = Date.now();
    t.inFlight = true;
    const ok = await probe(t.ip, t.port, t.spec, source);
    t.inFlight = false;
    if (t.stopped) return;
    const before = t.state.status;
    t.state = healthStep(t.state, ok, t.spec);
    if (t.state.status !== before) changed();
    schedule(t);
  };

  return {
    update(set) {
      source = set.source;
      const next = new Map(set.probes.map((p) => [`${p.listenerId} ${p.ip} ${p.port}`, p]));
      let membership = false;
      for (const [key, t] of targets) {
        if (next.has(key)) continue;
        t.stopped = true;
        clearTimeout(t.timer);
        targets.delete(key);
        membership = true;
      }
      for (const [key, p] of next) {
        const old = targets.get(key);
        if (old) {
          const interval = old.spec.intervalMs;
          old.spec = p.spec;
          // a new interval counts from the last probe (a shorter one must not wait out the longer)
          if (p.spec.intervalMs !== interval && old.lastStart && !old.inFlight) schedule(old);
          continue;
        }
        const t: Target = { listenerId: p.listenerId, ip: p.ip, port: p.port, spec: p.spec, state: UNKNOWN_HEALTH, lastStart: 0, inFlight: false, stopped: false };
        targets.set(key, t);
        t.timer = setTimeout(() => void run(t), Math.random() * Math.min(1000, Math.max(1, p.spec.intervalMs)));
        membership = true;
      }
      if (membership) changed();
    },
    report,
    stop() {
      clearInterval(periodic);
      for (const t of targets.values()) {
        t.stopped = true;
        clearTimeout(t.timer);
      }
      targets.clear();
    },
  };
}

function main() {
  const i = process.argv.indexOf('--report-ms');
  const reportMs = i > 0 ? Number(process.argv[i + 1]) : 30_000;
  const runner = createProbeRunner((r) => process.stdout.write(`${JSON.stringify(r)}\n`), { reportMs });
  process.stdout.on('error', () => process.exit(0)); // the reader went away (EPIPE): so did the supervisor
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (!line.trim()) return;
    try {
      const set = JSON.parse(line) as ProbeSet;
      if (typeof set.source !== 'string' || !Array.isArray(set.probes)) throw new Error('expected { source, probes: [] }');
      runner.update(set);
    } catch (e) {
      process.stderr.write(`health-probe: ignoring a malformed probe set: ${(e as Error).message}\n`);
    }
  });
  lines.on('close', () => {
    runner.stop();
    process.exit(0);
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
