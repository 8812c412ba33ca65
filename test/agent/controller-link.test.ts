/**
 * The agent's controller link over real TLS (certificates made by
 * agent-tls.ts with openssl): with several controllers it moves past one
 * that refuses connections and one that answers 5xx, stays on the one that
 * works, tries each at most once per call when all fail, and keeps a single
 * endpoint's answers as they are.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { currentEndpoint, parseEndpoint, sendReport, type LinkOptions } from '../../src/agent/controller-link.js';
import { ReportRefused } from '../../src/agent/reconcile-loop.js';
import { ensureAgentTls } from '../../src/controller/agent-tls.js';

const REPORT = { revision: 1, digest: 'ab'.repeat(8), ok: true };

describe('controller link failover over TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-link-'));
  const servers: Server[] = [];
  const hits: Record<string, number> = { failing: 0, good: 0, refusing: 0 };
  let ca: Buffer;
  let failing: string;
  let good: string;
  let refusing: string;
  let closed: string;
  let logged: string[] = [];

  /** An HTTPS server answering every request with `status`; its HOST:PORT. */
  async function serve(name: string, status: number, tls: { cert: Buffer; key: Buffer }): Promise<string> {
    const s = createServer(tls, (req, res) => {
      hits[name] = (hits[name] ?? 0) + 1;
      req.resume();
      req.on('end', () => res.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? '{"ok":true}' : '{"error":"nope"}'));
    });
    await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
    servers.push(s);
    return `127.0.0.1:${(s.address() as AddressInfo).port}`;
  }

  before(async () => {
    const files = ensureAgentTls(join(dir, 'tls'), ['127.0.0.1']);
    ca = readFileSync(files.ca);
    const tls = { cert: readFileSync(files.cert), key: readFileSync(files.key) };
    failing = await serve('failing', 503, tls);
    good = await serve('good', 200, tls);
    refusing = await serve('refusing', 400, tls);
    // A port nothing listens on: a server opened and closed again.
    const gone = await serve('gone', 200, tls);
    await new Promise<void>((ok) => servers.pop()!.close(() => ok()));
    closed = gone;
  });
  after(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise<void>((ok) => s.close(() => ok()));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const link = (controller: string, hostId: string): LinkOptions => ({ controller, hostId, token: 't', ca, linkLog: (m) => logged.push(m) });

  it('parses unix, http, https and bare HOST:PORT (TLS) endpoints; TLS needs the CA', async () => {
    assert.deepEqual(parseEndpoint('unix:/run/agents.sock'), { label: 'unix:/run/agents.sock', tls: false, target: { socketPath: '/run/agents.sock' } });
    assert.deepEqual(parseEndpoint('http://10.0.0.1:9443'), { label: '10.0.0.1:9443', tls: false, target: { host: '10.0.0.1', port: 9443 } });
    assert.deepEqual(parseEndpoint('10.0.0.1:9443'), { label: '10.0.0.1:9443', tls: true, target: { host: '10.0.0.1', port: 9443 } });
    assert.deepEqual(parseEndpoint('[::1]:9443'), { label: '[::1]:9443', tls: true, target: { host: '::1', port: 9443 } });
    assert.throws(() => parseEndpoint('10.0.0.1'), /no port/);
    await assert.rejects(sendReport({ controller: '127.0.0.1:1', hostId: 'x', token: 't' }, REPORT), /need the CA/);
  });

  it('moves past a closed port and a 5xx to the controller that answers, and stays there', async () => {
    logged = [];
    const l = link(`${closed},${failing},${good}`, 'h1');
    await sendReport(l, REPORT);
    assert.equal(currentEndpoint(l), good);
    assert.deepEqual([hits.failing, hits.good], [1, 1]);
    assert.equal(logged.length, 2, logged.join('\n'));
    assert.match(logged[0]!, new RegExp(`${closed} failed .*using ${failing}`));
    assert.match(logged[1]!, new RegExp(`${failing} failed .*503.*using ${good}`));
    await sendReport(l, REPORT);
    assert.deepEqual([hits.failing, hits.good], [1, 2], 'the next call goes to the current controller only');
  });

  it('a 4xx is the answer, not a reason to move', async () => {
    const l = link(`${refusing},${good}`, 'h2');
    const before = hits.good!;
    await assert.rejects(sendReport(l, REPORT), (e) => e instanceof ReportRefused && e.status === 400);
    assert.equal(currentEndpoint(l), refusing);
    assert.equal(hits.good, before);
  });

  it('when every controller fails, tries each once and gives up with the last error', async () => {
    const l = link(`${failing},${closed}`, 'h3');
    const before = hits.failing!;
    await assert.rejects(sendReport(l, REPORT), /ECONNREFUSED|503/);
    assert.equal(hits.failing, before + 1, 'one try of the failing controller in the call');
  });

  it('keeps one controller\'s 5xx as its answer', async () => {
    const l = link(failing, 'h4');
    await assert.rejects(sendReport(l, REPORT), (e) => !(e instanceof ReportRefused) && /503/.test(String(e)));
    assert.equal(currentEndpoint(l), failing);
  });
});
