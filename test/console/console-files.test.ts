/** The controller's console files: the page at every route, hashed assets cached, nothing outside the build served. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isConsolePath, serveConsole } from '../../src/api/console-files.js';

describe('console files', () => {
  let dir: string;
  let server: Server;
  let base: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-console-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(join(dir, 'assets', 'index-abc.js'), 'console.log(1)');
    writeFileSync(join(tmpdir(), 'weft-console-secret.txt'), 'secret');
    server = createServer((req, res) => void serveConsole(req.url!, res, dir));
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('knows its paths', () => {
    for (const p of ['/console', '/console/', '/console/assets/x.js', '/console?x=1']) assert.equal(isConsolePath(p), true, p);
    for (const p of ['/', '/consoles', '/metrics', '/healthz']) assert.equal(isConsolePath(p), false, p);
  });
  it('redirects /console to /console/ and answers every route with the page', async () => {
    const r = await fetch(`${base}/console`, { redirect: 'manual' });
    assert.equal(r.status, 308);
    assert.equal(r.headers.get('location'), '/console/');
    for (const p of ['/console/', '/console/vpcs', '/console/index.html']) {
      const page = await fetch(`${base}${p}`);
      assert.equal(page.status, 200, p);
      assert.match(page.headers.get('content-type')!, /text\/html/);
      assert.equal(page.headers.get('cache-control'), 'no-cache');
      assert.match(await page.text(), /id="root"/);
    }
  });
  it('serves hashed assets for good, and nothing outside the build', async () => {
    const js = await fetch(`${base}/console/assets/index-abc.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type')!, /javascript/);
    assert.match(js.headers.get('cache-control')!, /immutable/);
    assert.equal((await fetch(`${base}/console/assets/missing.js`)).status, 404);
    for (const p of ['/console/assets/..%2F..%2Fweft-console-secret.txt', '/console/assets/%2e%2e/%2e%2e/weft-console-secret.txt']) {
      const r = await fetch(`${base}${p}`);
      assert.notEqual(await r.text(), 'secret', p);
    }
  });
  it('says how to build the console when it is not built', async () => {
    const s = createServer((req, res) => void serveConsole(req.url!, res, join(dir, 'nowhere')));
    await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
    const r = await fetch(`http://127.0.0.1:${(s.address() as { port: number }).port}/console/`);
    s.close();
    assert.equal(r.status, 503);
    assert.match(await r.text(), /npm run build/);
  });
});
