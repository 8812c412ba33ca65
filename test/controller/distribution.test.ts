/**
 * Incremental distribution against a real store (SQLite, or PostgreSQL when
 * WEFT_TEST_DATABASE is set) with registered hosts: each kind of change wakes
 * exactly the hosts whose documents it touches, and every cached document
 * equals a fresh compile afterwards — also across a random walk of changes and
 * for commits made by another replica (read from the change log).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { compileHost, documentDigest } from '../../src/compile/compile.js';
import { loadSpan } from '../../src/compile/load.js';
import { tableChanged } from '../../src/api/vpc/route-tables.js';
import { registerHost } from '../../src/controller/agents-endpoint.js';
import { createDocumentCache } from '../../src/controller/document-cache.js';
import { openStore, type Store, type Write } from '../../src/store/store.js';
import { engineName, freshDatabase } from '../helpers/region.js';
import { ACCOUNT, rows } from '../helpers/store-rows.js';

const HOSTS = ['h1', 'h2', 'h3', 'h4'];
let routeIds = 1000;

async function freshStoreUrl(): Promise<{ url: string; drop(): Promise<void> }> {
  const db = await freshDatabase();
  if (db) return db;
  const dir = mkdtempSync(join(tmpdir(), 'weft-dist-'));
  return { url: join(dir, 'weft.db'), drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

describe(`incremental distribution (${engineName()})`, () => {
  let db: { url: string; drop(): Promise<void> };
  let store: Store;
  let docs: ReturnType<typeof createDocumentCache>;
  before(async () => {
    db = await freshStoreUrl();
    store = await openStore(db.url);
    for (const [i, h] of HOSTS.entries()) await registerHost(store, { id: h, zone: 'local-1', underlay: `100.64.0.${11 + i}` });
    docs = createDocumentCache(store, { pollMs: 3_600_000 }); // the tests poll the change log by hand
    await store.write(async (w) => {
      await rows.vpc(w, 'vpc-aaaaaaaa', 100);
      await rows.vpc(w, 'vpc-bbbbbbbb', 200);
      await rows.subnet(w, 'subnet-aaaaaaaa', 'vpc-aaaaaaaa', '10.0.1.0/24');
      await rows.subnet(w, 'subnet-bbbbbbbb', 'vpc-bbbbbbbb', '10.0.1.0/24');
      for (const g of ['sg-g1', 'sg-g2', 'sg-g3']) await rows.group(w, g);
      await rows.policy(w, 'sg-g1', { port: '22', ref: 'sg-g2' });
      await rows.policy(w, 'sg-g2', { port: '80' });
      await rows.policy(w, 'sg-g3', { port: '443' });
      await rows.instance(w, 'ins-a1', 'vpc-aaaaaaaa', 'subnet-aaaaaaaa', '10.0.1.5', 'h1', ['sg-g1']);
      await rows.instance(w, 'ins-a2', 'vpc-aaaaaaaa', 'subnet-aaaaaaaa', '10.0.1.6', 'h2', ['sg-g2']);
      await rows.instance(w, 'ins-b1', 'vpc-bbbbbbbb', 'subnet-bbbbbbbb', '10.0.1.5', 'h3', ['sg-g3']);
    });
    await docs.settled();
  });
  after(async () => {
    docs?.close();
    await store?.close();
    await db?.drop();
  });

  const fresh = async (h: string) => {
    const span = await loadSpan(store, h);
    return span && documentDigest(compileHost(span));
  };

  /** Every host's served document equals a fresh compile. */
  async function assertFresh(label: string) {
    for (const h of HOSTS) assert.equal((await docs.get(h))?.digest, await fresh(h), `${label}: document of ${h}`);
  }

  /** Caches every host's document, runs `change`, returns the hosts that were woken. */
  async function woken(change: () => Promise<unknown>): Promise<string[]> {
    for (const h of HOSTS) await docs.get(h);
    const hit = new Set<string>();
    const unwatch = HOSTS.map((h) => docs.watch(h, () => hit.add(h)));
    try {
      await change();
      await docs.settled();
    } finally {
      for (const u of unwatch) u();
    }
    return [...hit].sort();
  }
  const write = (fn: (w: Write) => Promise<void>) => () => store.write(fn);

  it('serves every host a document equal to a fresh compile, compiled once while nothing changes', async () => {
    await assertFresh('initial');
    const before = docs.stats.compiles;
    for (let i = 0; i < 5; i++) for (const h of HOSTS) await docs.get(h);
    assert.equal(docs.stats.compiles, before, 'no recompile without a change');
  });

  it('a policy change wakes the hosts binding the group', async () => {
    assert.deepEqual(await woken(write((w) => rows.policy(w, 'sg-g1', { port: '2222', ref: 'sg-g2' }))), ['h1']);
    await assertFresh('policy of sg-g1');
  });

  it('a change of a referenced group wakes the hosts binding it and those referencing it', async () => {
    assert.deepEqual(await woken(write((w) => rows.policy(w, 'sg-g2', { port: '8080' }))), ['h1', 'h2']);
    await assertFresh('policy of sg-g2');
  });

  it('binding a group (an instance update) wakes the hosts of the instance\'s VPC only', async () => {
    assert.deepEqual(await woken(write((w) => rows.bind(w, 'ins-a1', 'sg-g2'))), ['h1', 'h2']);
    await assertFresh('bind');
    assert.deepEqual(await woken(write((w) => rows.unbind(w, 'ins-a1', 'sg-g2'))), ['h1', 'h2']);
    await assertFresh('unbind');
  });

  it('a new unplaced instance wakes its VPC\'s hosts; placing it wakes its new host too', async () => {
    assert.deepEqual(await woken(write((w) => rows.instance(w, 'ins-a3', 'vpc-aaaaaaaa', 'subnet-aaaaaaaa', '10.0.1.7', null, ['sg-g2']))), ['h1', 'h2']);
    await assertFresh('create unplaced');
    assert.deepEqual(await woken(write((w) => rows.place(w, 'ins-a3', 'h4'))), ['h1', 'h2', 'h4']);
    await assertFresh('place');
    assert.ok((await docs.get('h4'))!.document.vpcs.some((v) => v.vpcId === 'vpc-aaaaaaaa'), 'h4 now holds vpc-aaaaaaaa');
  });

  it('moving an instance wakes its old and new host; deleting one wakes the hosts that held it', async () => {
    assert.deepEqual(await woken(write((w) => rows.place(w, 'ins-a3', 'h3'))), ['h1', 'h2', 'h3', 'h4']);
    await assertFresh('move');
    assert.equal((await docs.get('h4'))!.document.vpcs.length, 0, 'h4 has nothing left');
    assert.deepEqual(await woken(write((w) => rows.terminate(w, 'ins-a2'))), ['h1', 'h2', 'h3']);
    await assertFresh('terminate');
  });

  it('a host that re-registers wakes itself and the hosts holding its address', async () => {
    // ins-a1 (h1) and ins-a3 (h3) share vpc-aaaaaaaa: each holds the other's underlay.
    assert.deepEqual(await woken(() => registerHost(store, { id: 'h1', zone: 'local-1', underlay: '100.64.1.11' })), ['h1', 'h3']);
    await assertFresh('re-register h1');
    assert.deepEqual(await woken(() => registerHost(store, { id: 'h4', zone: 'local-1', underlay: '100.64.1.14' })), ['h4']);
    await assertFresh('re-register h4');
  });

  it('subnet and VPC changes wake the hosts holding them; account changes none; route tables, ACLs, peerings, EIPs and load balancers none by themselves (their VPC changes carry them); unknown kinds all', async () => {
    const touch = (kind: string, id: string) => write(async (w) => w.changed(ACCOUNT, kind, id, 'update'));
    assert.deepEqual(await woken(touch('subnet', 'subnet-bbbbbbbb')), ['h3']);
    assert.deepEqual(await woken(touch('vpc', 'vpc-aaaaaaaa')), ['h1', 'h3']);
    assert.deepEqual(await woken(touch('account', ACCOUNT)), []);
    for (const kind of ['route_table', 'network_acl', 'peering', 'address']) assert.deepEqual(await woken(touch(kind, `${kind}-x`)), [], kind);
    // A load balancer wakes the LB nodes (none here); its action's VPC change carries it to the hosts.
    assert.deepEqual(await woken(touch('load_balancer', 'lb-aaaaaaaa')), []);
    assert.deepEqual(await woken(touch('kind-not-taught', 'x-aaaaaaaa')), HOSTS);
    await assertFresh('touches');
  });

  it('a route change reaches the hosts holding the table and the host of a new next hop, not the rest of the VPC', async () => {
    // vpc-cccccccc: a client on h1 in a subnet on table rtb-c; next-hop candidates on h2 and h3 in a subnet of the main table.
    const route = (id: string, table: string, destination: string, gateway: string) => ({
      id, route_id: ++routeIds, route_table_id: table, destination, gateway_type: 'NORMAL_CVM', gateway_id: gateway, description: '', enabled: 1, route_type: 'USER', created_at: new Date().toISOString(),
    });
    const table = { id: 'rtb-cccccccc', vpc_id: 'vpc-cccccccc' };
    await store.write(async (w) => {
      await rows.vpc(w, 'vpc-cccccccc', 300);
      await w.tx.insertInto('route_tables').values([
        { id: 'rtb-cmain000', account: ACCOUNT, vpc_id: 'vpc-cccccccc', name: 'default', is_main: 1, created_at: w.now },
        { ...table, account: ACCOUNT, name: 't', is_main: 0, created_at: w.now },
      ]).execute();
      await rows.subnet(w, 'subnet-cclient0', 'vpc-cccccccc', '10.0.1.0/24');
      await rows.subnet(w, 'subnet-crouter0', 'vpc-cccccccc', '10.0.2.0/24');
      await w.tx.updateTable('subnets').set({ route_table_id: table.id }).where('id', '=', 'subnet-cclient0').execute();
      await w.tx.updateTable('subnets').set({ route_table_id: 'rtb-cmain000' }).where('id', '=', 'subnet-crouter0').execute();
      await rows.instance(w, 'ins-cclient', 'vpc-cccccccc', 'subnet-cclient0', '10.0.1.5', 'h1', []);
      await rows.instance(w, 'ins-crouter2', 'vpc-cccccccc', 'subnet-crouter0', '10.0.2.5', 'h2', []);
      await rows.instance(w, 'ins-crouter3', 'vpc-cccccccc', 'subnet-crouter0', '10.0.2.6', 'h3', []);
    });
    await docs.settled();
    const change = (f: (w: Write) => Promise<unknown>) =>
      woken(
        write(async (w) => {
          await f(w);
          await tableChanged(w, ACCOUNT, table, 'update');
        }),
      );
    // A route to h2's instance: h1 holds the table (its port's subnet), h2 comes to hold it as a next hop; h3 stays asleep.
    assert.deepEqual(await change((w) => w.tx.insertInto('routes').values(route('rti-c0000001', table.id, '192.168.0.0/24', '10.0.2.5')).execute()), ['h1', 'h2']);
    await assertFresh('route to h2');
    // Moved to h3's instance: h2 (holding it) and h3 (the new next hop) and h1.
    assert.deepEqual(
      await change((w) => w.tx.updateTable('routes').set({ gateway_id: '10.0.2.6' }).where('id', '=', 'rti-c0000001').execute()),
      ['h1', 'h2', 'h3'],
    );
    await assertFresh('route moved to h3');
    await change((w) => w.tx.deleteFrom('routes').where('id', '=', 'rti-c0000001').execute());
    await assertFresh('route deleted');
  });

  it('a commit on another replica reaches the hosts through the change log', async () => {
    const replica = await openStore(db.url);
    try {
      const hit = await woken(async () => {
        await replica.write((w) => rows.policy(w, 'sg-g3', { port: '8443' }));
        await docs.poll();
      });
      assert.deepEqual(hit, ['h3']);
      await assertFresh('other replica');
    } finally {
      await replica.close();
    }
  });

  it('never serves a stale document across a random walk of changes, reads and concurrent compiles', async () => {
    const groups = ['sg-g1', 'sg-g2', 'sg-g3'];
    let serial = 10;
    const op = fc.oneof(
      fc.record({ k: fc.constant('create' as const), vpc: fc.constantFrom('a', 'b'), host: fc.constantFrom(null, ...HOSTS), g: fc.subarray(groups) }),
      fc.record({ k: fc.constant('place' as const), host: fc.constantFrom(null, ...HOSTS), pick: fc.nat() }),
      fc.record({ k: fc.constant('bind' as const), g: fc.constantFrom(...groups), pick: fc.nat() }),
      fc.record({ k: fc.constant('terminate' as const), pick: fc.nat() }),
      fc.record({ k: fc.constant('policy' as const), g: fc.constantFrom(...groups), ref: fc.constantFrom(undefined, ...groups), port: fc.integer({ min: 1, max: 9 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), fc.boolean(), async (ops, concurrent) => {
        for (const o of ops) {
          const all = (await store.db.selectFrom('instances').select(['id', 'vpc_id']).orderBy('id').execute());
          const pick = (n: number) => all[n % Math.max(1, all.length)];
          // Reads racing the commit: a compile in flight must not be cached stale.
          const racing = concurrent ? HOSTS.map((h) => docs.get(h)) : [];
          await store.write(async (w) => {
            if (o.k === 'create') {
              const id = `ins-r${serial++}`;
              const v = o.vpc === 'a' ? 'aaaaaaaa' : 'bbbbbbbb';
              await rows.instance(w, id, `vpc-${v}`, `subnet-${v}`, `10.0.1.${serial}`, o.host, o.g);
            } else if (o.k === 'place' && pick(o.pick)) await rows.place(w, pick(o.pick)!.id, o.host);
            else if (o.k === 'bind' && pick(o.pick)) {
              const id = pick(o.pick)!.id;
              const has = await w.tx.selectFrom('instance_sgs').select('sg_id').where('instance_id', '=', id).where('sg_id', '=', o.g).executeTakeFirst();
              await (has ? rows.unbind(w, id, o.g) : rows.bind(w, id, o.g));
            } else if (o.k === 'terminate' && pick(o.pick)) await rows.terminate(w, pick(o.pick)!.id);
            else if (o.k === 'policy') await rows.policy(w, o.g, { port: String(o.port), ref: o.ref });
          });
          await Promise.all(racing);
          await docs.settled();
          await assertFresh(`after ${JSON.stringify(o)}`);
        }
      }),
      { numRuns: 15 },
    );
  });
});
