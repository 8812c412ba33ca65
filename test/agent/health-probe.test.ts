/**
 * The health probe as the LB node runs it, without a namespace: the program
 * on stdin/stdout against real servers on 127.0.0.1 (TCP, HTTP that turns
 * from 200 to 500 and back, a closed port, ping), with short intervals.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { LbHealthReport } from '../../src/contract/agent-report.js';
import type { HealthCheckSpec } from '../../src/contract/host-document.js';
import { createProbeRunner, type ProbeSet } from '../../src/agent/health-probe.js';

const program = fileURLToPath(new URL('../../src/agent/health-probe.js', import.meta.url));
const listen = (s: net.Server) => new Promise<number>((ok) => s.listen(0, '127.0.0.1', () => ok((s.address() as net.AddressInfo).port)));

const spec = (type: HealthCheckSpec['type'], more: Partial<HealthCheckSpec> = {}): HealthCheckSpec => ({ type, intervalMs: 100, timeoutMs: 300, rise: 2, fall: 2, ...more });

describe('the health probe program', () => {
  const tcp = net.createServer((s) => s.on('error', () => undefined).end());
  let httpStatus = 200;
  const httpRequests: { method?: string; url?: string; host?: string }[] = [];
  const web = http.createServer((req, res) => {
    httpRequests.push({ method: req.method, url: req.url, host: req.headers.host });
    res.writeHead(httpStatus).end();
  });
  let tcpPort = 0;
  let webPort = 0;
  let closedPort = 0;

  before(async () => {
    tcpPort = await listen(tcp);
    webPort = await listen(web);
    const c = net.createServer();
    closedPort = await listen(c);
    await new Promise((ok) => c.close(ok));
  });
  after(() => {
    tcp.close();
    web.close();
  });

  it('reports Unknown, then each target’s transitions, follows new probe sets, reports periodically, and exits when stdin closes', async () => {
    const p = spawn(process.execPath, [program, '--report-ms', '700'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    const reports: { at: number; r: LbHealthReport }[] = [];
    let buf = '';
    p.stdout.on('data', (d) => {
      buf += d;
      for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) reports.push({ at: Date.now(), r: JSON.parse(buf.slice(0, i)) as LbHealthReport });
    });
    const exited = new Promise<number | null>((ok) => p.on('close', ok));
    const send = (set: ProbeSet) => p.stdin.write(`${JSON.stringify(set)}\n`);
    const status = (r: LbHealthReport, listenerId: string) => r.targets.find((t) => t.listenerId === listenerId)?.status;
    const waitFor = async (what: string, f: (r: LbHealthReport) => boolean, ms = 5000) => {
      const end = Date.now() + ms;
      for (;;) {
        const hit = reports.find((x) => f(x.r));
        if (hit) return hit;
        if (Date.now() > end) throw new Error(`no report where ${what}; last: ${JSON.stringify(reports.at(-1)?.r)}`);
        await new Promise((ok) => setTimeout(ok, 20));
      }
    };
    try {
      const set: ProbeSet = {
        source: '127.0.0.1',
        probes: [
          { listenerId: 'lbl-tcp', ip: '127.0.0.1', port: tcpPort, spec: spec('tcp') },
          { listenerId: 'lbl-closed', ip: '127.0.0.1', port: closedPort, spec: spec('tcp') },
          { listenerId: 'lbl-http', ip: '127.0.0.1', port: 1, spec: spec('http', { port: webPort, httpMethod: 'GET', httpPath: '/healthz', httpDomain: 'www.example.com', httpCodes: 2 }) },
          { listenerId: 'lbl-ping', ip: '127.0.0.1', port: 53, spec: spec('ping', { intervalMs: 300, timeoutMs: 1000 }) },
        ],
      };
      send(set);
      const first = await waitFor('the set is known', (r) => r.targets.length === 4);
      assert.ok(first.r.targets.every((t) => t.status === 'Unknown'), 'every target starts Unknown');
      assert.deepEqual(first.r.targets.find((t) => t.listenerId === 'lbl-http'), { listenerId: 'lbl-http', ip: '127.0.0.1', port: 1, status: 'Unknown' }, 'targets by their own port, not the check port');
      await waitFor('TCP, HTTP and ping are Alive, the closed port Dead', (r) =>
        status(r, 'lbl-tcp') === 'Alive' && status(r, 'lbl-http') === 'Alive' && status(r, 'lbl-ping') === 'Alive' && status(r, 'lbl-closed') === 'Dead',
      );
      assert.deepEqual(httpRequests[0], { method: 'GET', url: '/healthz', host: 'www.example.com' });
      const deadTcp = reports.findIndex((x) => status(x.r, 'lbl-closed') === 'Dead');
      assert.ok(reports.slice(0, deadTcp).every((x) => status(x.r, 'lbl-closed') === 'Unknown'), 'a closed port goes from Unknown to Dead');

      httpStatus = 500;
      const t500 = Date.now();
      const dead = await waitFor('HTTP Dead after 500s', (r) => status(r, 'lbl-http') === 'Dead');
      assert.ok(dead.at - t500 >= 90, `fall = 2: two failures, 100 ms apart: ${dead.at - t500} ms`);
      httpStatus = 200;
      await waitFor('HTTP Alive again', (r) => reports.indexOf(reports.find((x) => x.r === r)!) > reports.indexOf(dead) && status(r, 'lbl-http') === 'Alive');

      // a new set: the closed port goes, a new target comes
      const n = reports.length;
      send({ ...set, probes: [...set.probes.filter((x) => x.listenerId !== 'lbl-closed'), { listenerId: 'lbl-new', ip: '127.0.0.1', port: tcpPort, spec: spec('tcp') }] });
      await waitFor('the new set', (r) => reports.indexOf(reports.find((x) => x.r === r)!) >= n && r.targets.length === 4 && status(r, 'lbl-new') === 'Alive' && !status(r, 'lbl-closed'));

      // nothing changes: the periodic report
      const quiet = reports.length;
      await new Promise((ok) => setTimeout(ok, 1600));
      const periodic = reports.slice(quiet);
      assert.ok(periodic.length >= 1 && periodic.length <= 3, `${periodic.length} periodic reports in 1.6 s at 700 ms`);
      assert.deepEqual(periodic.at(-1)!.r.targets.map((t) => [t.listenerId, t.status]), [['lbl-tcp', 'Alive'], ['lbl-http', 'Alive'], ['lbl-ping', 'Alive'], ['lbl-new', 'Alive']]);

      // the TCP server goes away: Dead after fall failures; requests stop for removed targets
      tcp.close();
      await waitFor('TCP Dead', (r) => status(r, 'lbl-tcp') === 'Dead' && status(r, 'lbl-new') === 'Dead');
      send({ source: '127.0.0.1', probes: [] });
      await waitFor('an empty set', (r) => r.targets.length === 0);
      const count = httpRequests.length;
      await new Promise((ok) => setTimeout(ok, 300));
      assert.equal(httpRequests.length, count, 'no probe of a target no longer in the set');
      p.stdin.write('not json\n');
      p.stdin.end();
      assert.equal(await exited, 0, 'exits when stdin closes');
      assert.match(stderr, /ignoring a malformed probe set/);
    } finally {
      p.kill('SIGKILL');
    }
  });
});

describe('the probe loop', () => {
  const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

  it('keeps a target’s state when its spec changes, and counts a new interval from the last probe', async () => {
    const calls: number[] = [];
    const reports: LbHealthReport[] = [];
    const runner = createProbeRunner((r) => reports.push(r), {
      reportMs: 60_000,
      probe: async () => {
        calls.push(Date.now());
        return true;
      },
    });
    try {
      const set = (intervalMs: number): ProbeSet => ({ source: '127.0.0.1', probes: [{ listenerId: 'l', ip: '10.0.0.1', port: 80, spec: spec('tcp', { intervalMs }) }] });
      runner.update(set(40));
      await sleep(200);
      assert.ok(calls.length >= 3, `${calls.length} probes in 200 ms at 40 ms`);
      assert.deepEqual(reports.map((r) => r.targets[0]!.status), ['Unknown', 'Alive'], 'the set, then the first success: two reports in all');
      runner.update(set(5_000));
      const n = calls.length;
      await sleep(300);
      assert.ok(calls.length <= n + 1, 'at most the probe already due, then 5 s between probes');
      runner.update(set(40));
      await sleep(150);
      assert.ok(calls.length >= n + 2, 'back to 40 ms at once, not after the 5 s');
      assert.equal(runner.report().targets[0]!.status, 'Alive');
      assert.equal(reports.length, 2, 'a spec change alone reports nothing');
    } finally {
      runner.stop();
    }
  });
});
