/**
 * The console bench (issue 12): what a user waits for in the browser
 * (Debian's chromium, playwright-core) against a local controller.
 *
 *   bundle        the JS and CSS the console loads first (gzip: what crosses the wire), and
 *                 all of it with the lazily loaded topology page and elkjs
 *   load          cold load of /console/ to the sign-in form, and sign-in to the
 *                 first list drawn; side by side with the same browser loading the
 *                 controller's /healthz (the floor: the browser's own start-up)
 *   10k list      the instance list drawn (first page) with 20 and with 10,000
 *                 instances in the account, next page, and a name search: paging
 *                 and filtering on the server keep the 10,000 case as fast as the 20
 *                 one (ratio ≈ 1)
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Client as CvmClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/cvm/v20170312/cvm_client.js';
import { Client as VpcClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_client.js';
import type { BenchModule, BenchOptions } from './lib/module.js';
import { ROOT, startServer, tempDataDir, weftOrThrow } from './lib/server.js';
import { fmt, median, table } from './lib/stats.js';

const CHROMIUM = process.env.WEFT_CHROMIUM ?? '/usr/bin/chromium';
const log = (m: string) => process.stderr.write(`[console] ${m}\n`);

/** What the console ships: the first load (what index.html names) and everything, lazily loaded chunks (the topology, elkjs) included. */
function bundle() {
  const dist = join(ROOT, 'dist', 'console');
  const dir = join(dist, 'assets');
  const first = new Set([...readFileSync(join(dist, 'index.html'), 'utf8').matchAll(/assets\/([^"]+\.(?:js|css))"/g)].map((m) => m[1]!));
  const files = readdirSync(dir).filter((f) => /\.(js|css)$/.test(f));
  const kb = (pick: (f: string) => boolean, size: (b: Buffer) => number) => files.filter(pick).reduce((n, f) => n + size(readFileSync(join(dir, f))), 0) / 1024;
  const gzip = (b: Buffer) => gzipSync(b, { level: 9 }).length;
  const raw = (b: Buffer) => b.length;
  return {
    firstLoadJsGzipKB: kb((f) => first.has(f) && f.endsWith('.js'), gzip),
    firstLoadCssGzipKB: kb((f) => first.has(f) && f.endsWith('.css'), gzip),
    allJsKB: kb((f) => f.endsWith('.js'), raw),
    allJsGzipKB: kb((f) => f.endsWith('.js'), gzip),
  };
}

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

async function signIn(page: Page, endpoint: string, c: { SecretId: string; SecretKey: string }) {
  await page.fill('[data-testid=signin] input[name=secretId]', c.SecretId);
  await page.fill('[data-testid=signin] input[name=secretKey]', c.SecretKey);
  await page.click('[data-testid=signin] button[type=submit]');
  await page.waitForSelector('[data-testid=vpcs-total]:not(:has-text("…"))');
  void endpoint;
}

/** Opens the instance list and waits for its first page; returns ms. */
async function listInstances(page: Page, endpoint: string): Promise<{ first: number; next: number; search: number }> {
  await page.goto(`http://${endpoint}/console/#/vpcs`);
  await page.waitForSelector('[data-testid=vpcs] tr[data-row]');
  const first = await timed(async () => {
    await page.click('nav a[data-nav="instances"]');
    await page.waitForSelector('[data-testid=instances] tr[data-row]');
  });
  const firstRow = await page.getAttribute('[data-testid=instances] tr[data-row]', 'data-row');
  const next = await timed(async () => {
    await page.click('[data-testid=instances] .pager button:last-child');
    await page.waitForFunction((id) => document.querySelector('[data-testid=instances] tr[data-row]')?.getAttribute('data-row') !== id, firstRow);
  });
  // A name no instance has: the search is answered when the list says 0 total.
  const search = await timed(async () => {
    await page.fill('[data-testid=instances] input[aria-label=search]', 'nobody');
    await page.click('[data-testid=instances] .toolbar button[type=submit]');
    await page.waitForFunction(() => document.querySelector('[data-testid=instances-total]')?.textContent === '0 total');
  });
  return { first, next, search };
}

async function run(o: BenchOptions) {
  if (!existsSync(CHROMIUM)) {
    const skipped = `needs chromium at ${CHROMIUM} (apt-get install chromium; WEFT_CHROMIUM names another)`;
    log(`skipped: ${skipped}`);
    return { report: `skipped: ${skipped}`, json: { skipped } };
  }
  const b = bundle();
  const dataDir = tempDataDir('console');
  const server = await startServer({ dataDir });
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  try {
    const c = server.credentials;
    const opts = { credential: { secretId: c.SecretId, secretKey: c.SecretKey }, region: 'local', profile: { httpProfile: { endpoint: server.endpoint, protocol: 'http://', reqTimeout: 60 } } };
    const vpc = new VpcClient(opts);
    const cvm = new CvmClient(opts);
    const rounds = o.quick ? 3 : 7;

    // Cold loads: a fresh browser context each time (no cache, no session).
    const load: { floor: number; signin: number; first: number }[] = [];
    for (let i = 0; i < rounds; i++) {
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      const floor = await timed(() => page.goto(`http://${server.endpoint}/healthz`, { waitUntil: 'load' }));
      const signin = await timed(async () => {
        await page.goto(`http://${server.endpoint}/console/`);
        await page.waitForSelector('[data-testid=signin] input[name=secretId]');
      });
      const first = await timed(() => signIn(page, server.endpoint, c));
      load.push({ floor, signin, first });
      await ctx.close();
    }
    log(`load: ${JSON.stringify(load.map((l) => Math.round(l.signin)))}`);

    const vpcId = (await vpc.CreateVpc({ VpcName: 'bench', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    const subnetId = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'big', CidrBlock: '10.0.0.0/18', Zone: 'local-1' })).Subnet!.SubnetId!;
    await weftOrThrow(['account', 'quota', '--data-dir', dataDir, '--name', 'admin', '--set', 'instance=20000']);
    const runInstances = async (n: number) => {
      for (let left = n; left > 0; left -= 100)
        await cvm.RunInstances({ Placement: { Zone: 'local-1' }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnetId }, InstanceCount: Math.min(100, left), InstanceName: 'i' });
    };
    const measureList = async () => {
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      await page.goto(`http://${server.endpoint}/console/`);
      await signIn(page, server.endpoint, c);
      const out: { first: number; next: number; search: number }[] = [];
      for (let i = 0; i < rounds; i++) out.push(await listInstances(page, server.endpoint));
      await ctx.close();
      return { first: median(out.map((x) => x.first)), next: median(out.map((x) => x.next)), search: median(out.map((x) => x.search)) };
    };
    await runInstances(40);
    const small = await measureList();
    log(`40 instances: ${JSON.stringify(small)}`);
    await runInstances(10_000 - 40);
    const total = (await cvm.DescribeInstances({ Limit: 1 })).TotalCount!;
    const large = await measureList();
    log(`${total} instances: ${JSON.stringify(large)}`);

    const med = (k: 'floor' | 'signin' | 'first') => median(load.map((l) => l[k]));
    const json = {
      bundle: b,
      loadMs: { healthzFloor: med('floor'), toSignInForm: med('signin'), signInToFirstList: med('first') },
      list: { instances: total, small: { instances: 40, ...small }, large, ratioFirst: large.first / small.first },
    };
    const report = table(
      ['figure', 'value'],
      [
        ['first load, JS + CSS (gzip)', `${fmt(b.firstLoadJsGzipKB)} KB + ${fmt(b.firstLoadCssGzipKB)} KB`],
        ['all JS, lazy topology + elkjs too (raw / gzip)', `${fmt(b.allJsKB)} KB / ${fmt(b.allJsGzipKB)} KB`],
        ['cold load to sign-in form (median)', `${fmt(json.loadMs.toSignInForm)} ms (browser floor, /healthz: ${fmt(json.loadMs.healthzFloor)} ms)`],
        ['sign-in to first list drawn', `${fmt(json.loadMs.signInToFirstList)} ms`],
        ['instance list, first page: 40 vs ' + total, `${fmt(small.first)} ms vs ${fmt(large.first)} ms (ratio ${fmt(json.list.ratioFirst)})`],
        ['next page: 40 vs ' + total, `${fmt(small.next)} ms vs ${fmt(large.next)} ms`],
        ['name search: 40 vs ' + total, `${fmt(small.search)} ms vs ${fmt(large.search)} ms`],
      ],
    );
    return { report, json };
  } finally {
    await browser.close();
    await server.stop();
  }
}

export const consoleBench: BenchModule = {
  name: 'console',
  description: 'the web console in chromium: bundle size, cold load, instance list with 10,000 instances',
  run,
};
