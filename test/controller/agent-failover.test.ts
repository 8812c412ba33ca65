/**
 * Agents fail over between controller replicas (SQLite file shared by two
 * in-process controllers, or PostgreSQL when WEFT_TEST_DATABASE is set),
 * over real TLS with one CA for both (agent-tls.ts): an agent polling
 * replica A moves to B when A closes, B resumes the document it holds
 * without sending it (204 for the unchanged state, the agent's revision
 * adopted so its reports count), and a change made through B reaches it as
 * a delta (and one that does not give its digest is replaced by the whole
 * document). Then a whole agent (runAgent, sim driver) across a failover:
 * one apply since, the change's, reported to the other replica.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { currentEndpoint, fetchDocument, sendReport, type LinkOptions } from '../../src/agent/controller-link.js';
import { runAgent } from '../../src/agent/agent.js';
import { SimDriver } from '../../src/dataplane/sim/driver.js';
import { ensureAgentTls } from '../../src/controller/agent-tls.js';
import { registerHost } from '../../src/controller/agents-endpoint.js';
import { startController } from '../../src/controller/controller.js';
import { engineName, freshDatabase } from '../helpers/region.js';
import { rows } from '../helpers/store-rows.js';
import { until as waitUntil } from '../helpers/until.js';

type Controller = Awaited<ReturnType<typeof startController>>;

/** The waits here are for failovers: poll often. */
const until = <T>(what: string, f: () => Promise<T | undefined | false>, ms = 20_000) => waitUntil(what, f, ms, 50);

/** Two controllers on one store, each with its own data dir, sharing the master key and one CA and certificate (as `weft up` makes them). */
function replicaPair(label: string) {
  const dir = mkdtempSync(join(tmpdir(), `weft-failover-${label}-`));
  const s = {
    a: undefined as unknown as Controller,
    b: undefined as unknown as Controller,
    aOpen: true,
    ca: Buffer.alloc(0),
    db: undefined as { url: string; drop(): Promise<void> } | undefined,
    async start() {
      s.db = await freshDatabase();
      const url = s.db?.url ?? join(dir, 'weft.db');
      const tls = ensureAgentTls(join(dir, 'region-tls'), ['127.0.0.1']);
      s.ca = readFileSync(tls.ca);
      const start = (name: string) =>
        startController({ dataDir: join(dir, name), database: url, listen: '127.0.0.1:0', agentListen: '127.0.0.1:0', agentTlsCert: tls.cert, agentTlsKey: tls.key });
      s.a = await start('a');
      mkdirSync(join(dir, 'b'), { recursive: true, mode: 0o700 });
      copyFileSync(join(dir, 'a', 'master.key'), join(dir, 'b', 'master.key'));
      s.b = await start('b');
    },
    async closeA() {
      s.aOpen = false;
      await s.a.close();
    },
    async stop() {
      if (s.aOpen) await s.a?.close();
      await s.b?.close();
      await s.db?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return s;
}

/** Host `h` with an instance in each of two VPCs (so a change to one leaves the other out of the delta); its token. */
async function hostWithTwoVpcs(c: Controller, h: string, n: number) {
  const token = await registerHost(c.store, { id: h, zone: 'local-1', underlay: `100.64.0.${10 + n}` });
  await c.store.write(async (w) => {
    for (const v of ['a', 'b']) {
      const vpc = `vpc-${v}${n}000000`;
      await rows.vpc(w, vpc, n * 10 + (v === 'a' ? 1 : 2));
      await rows.subnet(w, `subnet-${v}${n}000000`, vpc, '10.0.1.0/24');
      await rows.instance(w, `ins-${v}${n}-1`, vpc, `subnet-${v}${n}000000`, '10.0.1.5', h, []);
    }
  });
  return token;
}

const appliedRevision = async (c: Controller, h: string) =>
  Number((await c.store.db.selectFrom('hosts').select('applied_revision').where('id', '=', h).executeTakeFirstOrThrow()).applied_revision);

describe(`agent link failover between controller replicas over TLS (${engineName()})`, () => {
  const r = replicaPair('link');
  before(() => r.start());
  after(() => r.stop());

  it('moves a polling agent to the other replica, which resumes its document without sending it, then sends changes as deltas', async () => {
    const { a, b } = r;
    const token = await hostWithTwoVpcs(a, 'h1', 1);
    const link: LinkOptions = { controller: `${a.agentEndpoint},${b.agentEndpoint}`, ca: r.ca, hostId: 'h1', token, linkLog: () => {} };
    const first = (await fetchDocument(link, '', 1, null))!;
    assert.equal(first.delta, false, 'the first document is whole');
    assert.equal(first.document.vpcs.length, 2);
    assert.equal(currentEndpoint(link), a.agentEndpoint);
    await sendReport(link, { revision: first.document.revision, digest: first.digest, ok: true });

    // A write that does not touch h1: B compiles h1's document at a later revision than A did.
    await registerHost(b.store, { id: 'h9', zone: 'local-1', underlay: '100.64.0.99' });
    assert.notEqual((await b.agents.distribution.compile('h1'))!.revision, first.document.revision, 'B compiled h1 at another revision');

    const held = { document: first.document, digest: first.digest };
    const poll = fetchDocument(link, first.digest, 2, held);
    // The long poll is open on A; then A goes away.
    await until('the poll open on A', async () => a.agents.distribution.connected('h1'));
    await r.closeA();
    assert.equal(await poll, undefined, 'B held the poll: nothing re-sent for the unchanged state');
    assert.equal(currentEndpoint(link), b.agentEndpoint);
    assert.equal((await b.agents.distribution.compile('h1'))!.revision, first.document.revision, "B adopted the agent's revision");

    // A change through B: h1 gets a second instance in its first VPC.
    const wait = fetchDocument(link, first.digest, 20, held);
    await until('the poll open on B', async () => b.agents.distribution.connected('h1'));
    await b.store.write((w) => rows.instance(w, 'ins-a1-2', 'vpc-a1000000', 'subnet-a1000000', '10.0.1.6', 'h1', []));
    const next = (await wait)!;
    assert.equal(next.delta, true, 'sent as a delta');
    assert.ok(next.document.vpcs.find((v) => v.vpcId === 'vpc-a1000000')!.ports.some((p) => p.ip === '10.0.1.6'), 'the change is in');
    const current = (await b.agents.distribution.documentsFor(['h1']))[0]!;
    assert.deepEqual(next.document, current, 'the delta applied gives the current document');
    const whole = (await fetchDocument(link, '', 1))!;
    assert.equal(whole.digest, next.digest);
    assert.ok(next.bytes < whole.bytes, `the delta (${next.bytes} B) is smaller than the document (${whole.bytes} B)`);
    await sendReport(link, { revision: next.document.revision, digest: next.digest, ok: true });
    assert.equal(await appliedRevision(b, 'h1'), next.document.revision, 'the report of the delta-built document counts');
  });

  it('an agent whose held document does not give the delta\'s digest asks for the whole document', async () => {
    const { b } = r;
    const token = await hostWithTwoVpcs(b, 'h2', 2);
    const link: LinkOptions = { controller: b.agentEndpoint!, ca: r.ca, hostId: 'h2', token, linkLog: () => {} };
    const first = (await fetchDocument(link, '', 1, null))!;
    await b.store.write((w) => rows.instance(w, 'ins-a2-2', 'vpc-a2000000', 'subnet-a2000000', '10.0.1.6', 'h2', []));
    // What the agent holds has drifted from what it was sent: the context of the other VPC lost its port.
    const spoilt = { ...first.document, vpcs: first.document.vpcs.map((v) => (v.vpcId === 'vpc-b2000000' ? { ...v, ports: [] } : v)) };
    const next = (await until('the change', () => fetchDocument(link, first.digest, 5, { document: spoilt, digest: first.digest })))!;
    assert.equal(next.delta, false, 'the whole document, after the delta failed its digest');
    assert.deepEqual(next.document, (await b.agents.distribution.documentsFor(['h2']))[0]);
  });

  it('refuses a controller whose certificate the CA did not sign', async () => {
    const other = ensureAgentTls(mkdtempSync(join(tmpdir(), 'weft-other-ca-')), ['127.0.0.1']);
    const link: LinkOptions = { controller: r.b.agentEndpoint!, ca: readFileSync(other.ca), hostId: 'h2', token: 'x', linkLog: () => {} };
    await assert.rejects(fetchDocument(link, '', 1), /self[- ]signed|unable to verify|certificate/i);
    rmSync(join(other.ca, '..'), { recursive: true, force: true });
  });
});

describe(`a whole agent across a replica failover (${engineName()})`, () => {
  const r = replicaPair('agent');
  before(() => r.start());
  after(() => r.stop());

  it('keeps its document through the failover and applies and reports the next change made through the other replica', async () => {
    const { a, b } = r;
    const token = await hostWithTwoVpcs(a, 'h3', 3);
    const agent = runAgent({ controller: `${a.agentEndpoint},${b.agentEndpoint}`, ca: r.ca, hostId: 'h3', token, driver: new SimDriver(), log: () => {}, linkLog: () => {}, auditMs: 0 });
    try {
      const first = await until('h3 applied on A', async () => {
        const doc = (await a.agents.distribution.documentsFor(['h3']))[0];
        return doc && (await appliedRevision(a, 'h3')) === doc.revision && doc;
      });
      const applies = agent.loop.counts.applies;
      // A write that does not touch h3: B compiles h3's document at a later revision than A did.
      await registerHost(b.store, { id: 'h8', zone: 'local-1', underlay: '100.64.0.98' });
      assert.notEqual((await b.agents.distribution.compile('h3'))!.revision, first.revision);
      await r.closeA();
      // Its poll reaches B, which resumes the document at the agent's revision (B compiled it at a later one).
      await until("B resuming the agent's document at its revision", async () => (await b.agents.distribution.compile('h3'))!.revision === first.revision);
      await b.store.write((w) => rows.instance(w, 'ins-b3-2', 'vpc-b3000000', 'subnet-b3000000', '10.0.1.6', 'h3', []));
      const changed = await until('the change compiled on B', async () => {
        const doc = (await b.agents.distribution.documentsFor(['h3']))[0];
        return doc && doc.revision !== first.revision && doc;
      });
      await until('h3 reporting the change to B', async () => (await appliedRevision(b, 'h3')) === changed.revision);
      assert.equal(agent.loop.counts.applies, applies + 1, 'one apply since the failover: the change; the document was not sent again');
    } finally {
      await agent.stop();
    }
  });
});
