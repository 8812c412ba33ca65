/**
 * Flow-log capture on a host (docs/operations.md "Flow logs"). For each VPC
 * whose document context has flow logs, in its router namespace and only
 * there, the kernel's own tools capture:
 *   - accepted flows: conntrack accounting (`net.netfilter.nf_conntrack_acct`)
 *     read by conntrack-tools — `conntrack -E -e DESTROY` for flows that end,
 *     `conntrack -L` at the end of each window for the ones still going;
 *   - rejected packets: the security-group and ACL drops the router logs to
 *     NFLOG group FLOW_LOG_GROUP (nft-ruleset.ts), read by ulogd2 (NFLOG →
 *     BASE → IP2STR → JSON), which streams JSON lines to a Unix socket of the
 *     agent.
 * Every window (60 s unless WEFT_FLOW_LOG_WINDOW_S says otherwise) the pure
 * core (core/flow-log-window.ts) turns what was read into records, which go
 * to the controller; records a failed report could not deliver are sent with
 * the next window's (at most MAX_PENDING kept).
 *
 * Processes start when a flow log first covers a VPC here and stop when none
 * does; one that dies is started again at the next document or window, and
 * that window's records say SKIPDATA.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FlowLogCapture, FlowLogReport } from '../contract/flow-logs.js';
import type { HostDocument } from '../contract/host-document.js';
import { parseConntrackLine, parseUlogdLine, wants, windowRecords, type CtCounters, type CtEntry, type DroppedPacket, type ReportedRecord } from '../core/flow-log-window.js';
import { FLOW_LOG_GROUP } from '../dataplane/linux/nft-ruleset.js';

const run = promisify(execFile);
/** Records kept for the controller while it does not take them. */
const MAX_PENDING = 200_000;
/** Dropped packets kept per window before the window says SKIPDATA (a flood of drops must not eat the agent's memory). */
const MAX_DROPS = 500_000;
const ULOGD_PLUGINS = '/usr/lib/x86_64-linux-gnu/ulogd';

export interface FlowLogOptions {
  routerNs: (vpcId: string) => string;
  /** Where ulogd2's configuration, log and socket live (one set per VPC). */
  workDir: string;
  windowMs: number;
  send: (r: FlowLogReport) => Promise<unknown>;
  log: (msg: string) => void;
}

interface VpcCapture {
  ns: string;
  captures: FlowLogCapture[];
  start: number;
  counters: Map<string, CtCounters>;
  destroyed: CtEntry[];
  rejected: DroppedPacket[];
  lossy: boolean;
  conntrack?: ChildProcess;
  ulogd?: ChildProcess;
  server?: Server;
  /** Set once the VPC has left the document: the next window is its last. */
  leaving?: boolean;
}

/** The window from the environment: WEFT_FLOW_LOG_WINDOW_S (seconds; the region in a box's tests use a few), else 60 s. */
export const windowMsFromEnv = (env = process.env) => {
  const s = Number(env.WEFT_FLOW_LOG_WINDOW_S);
  return Number.isFinite(s) && s >= 1 ? s * 1000 : 60_000;
};

export function flowLogCapture(o: FlowLogOptions) {
  const vpcs = new Map<string, VpcCapture>();
  let pending: ReportedRecord[] = [];
  let stopped = false;
  let closing: Promise<void> = Promise.resolve();
  /**
   * Processes told to stop, until they have exited, by namespace and tool: a
   * new ulogd cannot bind the NFLOG group (nor take its pid file) while the
   * old one lives, so a capture started again waits for it.
   */
  const exiting = new Map<string, Promise<void>>();
  const exitOf = (p: ChildProcess) => new Promise<void>((ok) => (p.exitCode !== null || p.signalCode !== null ? ok() : p.once('exit', () => ok())));

  async function startConntrack(vpcId: string, c: VpcCapture) {
    await exiting.get(`${c.ns} conntrack`);
    // Large receive buffer: under many new flows a small one overflows and events are lost (then SKIPDATA).
    const p = spawn('ip', ['netns', 'exec', c.ns, 'conntrack', '-E', '-e', 'DESTROY', '-o', 'id,extended', '--buffer-size', String(8 << 20)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let rest = '';
    p.stdout!.on('data', (d: Buffer) => {
      const lines = (rest + d.toString()).split('\n');
      rest = lines.pop()!;
      for (const l of lines) {
        const e = parseConntrackLine(l);
        if (e) c.destroyed.push(e);
      }
    });
    p.stderr!.on('data', (d: Buffer) => {
      // "ENOBUFS": the kernel dropped events for us.
      if (/No buffer space|ENOBUFS/i.test(d.toString())) c.lossy = true;
    });
    p.on('exit', () => {
      if (c.conntrack === p) {
        c.conntrack = undefined;
        if (!stopped && !c.leaving) {
          c.lossy = true;
          o.log(`flow logs: conntrack events in ${vpcId} stopped; starting again`);
          void startConntrack(vpcId, c);
        }
      }
    });
    c.conntrack = p;
  }

  async function startUlogd(vpcId: string, c: VpcCapture) {
    await exiting.get(`${c.ns} ulogd`);
    mkdirSync(o.workDir, { recursive: true });
    const base = join(o.workDir, vpcId);
    const socket = `${base}.sock`;
    rmSync(socket, { force: true });
    let connected!: () => void;
    const ready = new Promise<void>((ok) => (connected = ok));
    const server = createServer((conn) => {
      connected();
      let rest = '';
      conn.on('data', (d: Buffer) => {
        const lines = (rest + d.toString()).split('\n');
        rest = lines.pop()!;
        for (const l of lines) {
          const pkt = parseUlogdLine(l);
          if (!pkt) continue;
          if (c.rejected.length < MAX_DROPS) c.rejected.push(pkt);
          else c.lossy = true;
        }
      });
      conn.on('error', () => {});
    });
    await new Promise<void>((ok, fail) => server.once('error', fail).listen(socket, ok));
    c.server = server;
    writeFileSync(
      `${base}.ulogd.conf`,
      [
        '[global]',
        `logfile="${base}.ulogd.log"`,
        'loglevel=5',
        ...['inppkt_NFLOG', 'raw2packet_BASE', 'filter_IP2STR', 'output_JSON'].map((p) => `plugin="${ULOGD_PLUGINS}/ulogd_${p}.so"`),
        'stack=log1:NFLOG,base1:BASE,ip2str1:IP2STR,json1:JSON',
        '[log1]',
        `group=${FLOW_LOG_GROUP}`,
        '[json1]',
        'mode="unix"',
        `file="${socket}"`,
        '',
      ].join('\n'),
    );
    const p = spawn('ip', ['netns', 'exec', c.ns, 'ulogd', '-c', `${base}.ulogd.conf`, '-p', `${base}.ulogd.pid`], { stdio: 'ignore' });
    p.on('exit', () => {
      if (c.ulogd === p) {
        c.ulogd = undefined;
        if (!stopped && !c.leaving) {
          c.lossy = true;
          o.log(`flow logs: ulogd in ${vpcId} stopped (see ${base}.ulogd.log); starting again at the next window`);
        }
      }
    });
    c.ulogd = p;
    // ulogd connects to the socket once its stack is up: a capture is running when it has (or after 3 s, whatever happened).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([ready, exitOf(p), new Promise((ok) => (timer = setTimeout(ok, 3000)))]);
    clearTimeout(timer);
  }

  /** Starts what the captures want and is not running, stops what they no longer want. */
  async function ensure(vpcId: string, c: VpcCapture) {
    const want = wants(c.captures);
    if (want.accepted && !c.conntrack) {
      // Accounting counts only entries made after it is on; it stays on (a per-namespace setting that costs little).
      await run('ip', ['netns', 'exec', c.ns, 'sysctl', '-qw', 'net.netfilter.nf_conntrack_acct=1']);
      await startConntrack(vpcId, c);
      // A new capture starts from the counters flows have now: what they sent before the flow log is not its traffic.
      if (!c.counters.size) {
        c.counters = windowRecords({ captures: [], start: 0, end: 0, prev: new Map(), destroyed: [], live: await listConntrack(c.ns), rejected: [] }).counters;
        c.start = Date.now();
      }
    }
    if (!want.accepted && c.conntrack) stopProcess(c, 'conntrack');
    if (want.rejected && !c.ulogd) await startUlogd(vpcId, c);
    if (!want.rejected && c.ulogd) stopProcess(c, 'ulogd');
  }

  function stopProcess(c: VpcCapture, which: 'conntrack' | 'ulogd') {
    const p = c[which];
    c[which] = undefined;
    if (p) {
      const key = `${c.ns} ${which}`;
      const gone = exitOf(p).then(() => void (exiting.get(key) === gone && exiting.delete(key)));
      exiting.set(key, gone);
      p.kill('SIGTERM');
    }
    if (which === 'ulogd') {
      c.server?.close();
      c.server = undefined;
    }
  }

  function update(doc: HostDocument) {
    closing = closing.then(async () => {
      if (stopped) return;
      const here = new Map(doc.vpcs.filter((v) => v.flowLogs?.length).map((v) => [v.vpcId, v.flowLogs!]));
      for (const [vpcId, captures] of here) {
        let c = vpcs.get(vpcId);
        if (!c) {
          c = { ns: o.routerNs(vpcId), captures, start: Date.now(), counters: new Map(), destroyed: [], rejected: [], lossy: false };
          vpcs.set(vpcId, c);
        }
        c.captures = captures;
        c.leaving = false;
        await ensure(vpcId, c).catch((e: unknown) => o.log(`flow logs: capture in ${vpcId} failed to start: ${e instanceof Error ? e.message : String(e)}`));
      }
      for (const [vpcId, c] of vpcs) if (!here.has(vpcId)) c.leaving = true;
    });
  }

  async function listConntrack(ns: string): Promise<CtEntry[]> {
    const { stdout } = await run('ip', ['netns', 'exec', ns, 'conntrack', '-L', '-o', 'id,extended'], { maxBuffer: 512 << 20 });
    return stdout.split('\n').flatMap((l) => parseConntrackLine(l) ?? []);
  }

  async function collect(vpcId: string, c: VpcCapture, end: number): Promise<ReportedRecord[]> {
    let live: CtEntry[] | undefined;
    if (wants(c.captures).accepted) {
      try {
        live = await listConntrack(c.ns);
      } catch (e) {
        c.lossy = true;
        o.log(`flow logs: conntrack -L in ${vpcId} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    const { records, counters } = windowRecords({
      captures: c.captures,
      start: Math.floor(c.start / 1000),
      end: Math.floor(end / 1000),
      prev: c.counters,
      destroyed: c.destroyed.splice(0),
      live,
      rejected: c.rejected.splice(0),
      lossy: c.lossy,
    });
    if (live) c.counters = counters;
    c.lossy = false;
    c.start = end;
    return records;
  }

  async function tick() {
    const end = Date.now();
    for (const [vpcId, c] of vpcs) {
      pending.push(...(await collect(vpcId, c, end)));
      if (c.leaving) {
        stopProcess(c, 'conntrack');
        stopProcess(c, 'ulogd');
        vpcs.delete(vpcId);
      } else await ensure(vpcId, c).catch(() => {});
    }
    if (pending.length > MAX_PENDING) {
      o.log(`flow logs: the controller has not taken ${pending.length} records; dropping the oldest`);
      pending = pending.slice(-MAX_PENDING);
    }
    if (!pending.length) return;
    const batch = pending;
    pending = [];
    try {
      await o.send({ records: batch });
    } catch (e) {
      pending = [...batch, ...pending];
      o.log(`flow logs: report failed (${e instanceof Error ? e.message : String(e)}); ${batch.length} records kept for the next window`);
    }
  }

  let ticking = false;
  const timer = setInterval(() => {
    if (ticking || stopped) return;
    ticking = true;
    closing = closing
      .then(tick)
      .catch((e: unknown) => o.log(`flow logs: window failed: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => (ticking = false));
  }, o.windowMs);

  return {
    update,
    /** The VPCs captured now and the processes running for each (for tests and status). */
    running: () => [...vpcs].map(([vpcId, c]) => ({ vpcId, conntrack: c.conntrack?.pid, ulogd: c.ulogd?.pid })),
    async stop() {
      clearInterval(timer);
      await closing;
      stopped = true;
      for (const c of vpcs.values()) {
        stopProcess(c, 'conntrack');
        stopProcess(c, 'ulogd');
      }
      vpcs.clear();
      await Promise.all(exiting.values());
    },
  };
}

export type FlowLogCaptureHandle = ReturnType<typeof flowLogCapture>;
